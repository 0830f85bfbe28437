/**
 * GovCloud ARNs live in the `aws-us-gov` partition, so an ARN written as `arn:aws:` in a template
 * points at the commercial partition and fails (or worse, silently matches nothing in a policy).
 * Returns the JSON paths of every string in a template that carries such a literal.
 */
export function findCommercialPartitionArns(template: unknown): string[] {
  const found: string[] = [];
  const visit = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      if (value.includes('arn:aws:')) found.push(path);
    } else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) visit(item, `${path}[${index}]`);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) visit(item, `${path}.${key}`);
    }
  };
  visit(template, '$');
  return found;
}
