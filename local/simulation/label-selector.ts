/**
 * Kubernetes label selectors as `?labelSelector=` carries them: equality (`a=b`, `a==b`, `a!=b`),
 * set (`a in (x,y)`, `a notin (x,y)`) and existence (`a`, `!a`) requirements, comma-separated,
 * all of which must hold.
 */

export class InvalidLabelSelectorError extends Error {
  override name = 'InvalidLabelSelectorError';
}

type Requirement = (labels: Readonly<Record<string, string>>) => boolean;

const KEY = '[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?';
const VALUE = '[-A-Za-z0-9_.]*';
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s+\\(([^)]*)\\)$`);
const EXISTS = new RegExp(`^(!?)\\s*(${KEY})$`);

/** Splits at commas outside the parentheses of set requirements. */
function terms(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const character of selector) {
    if (character === '(') depth += 1;
    if (character === ')') depth -= 1;
    if (character === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += character;
    }
  }
  parts.push(current.trim());
  return parts.filter((part) => part !== '');
}

function requirement(term: string): Requirement {
  const equality = EQUALITY.exec(term);
  if (equality) {
    const [, key = '', , operator, value = ''] = equality;
    return operator === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  const set = SET.exec(term);
  if (set) {
    const [, key = '', , operator, list = ''] = set;
    const values = new Set(list.split(',').map((value) => value.trim()));
    return operator === 'in'
      ? (labels) => Object.hasOwn(labels, key) && values.has(labels[key] ?? '')
      : (labels) => !Object.hasOwn(labels, key) || !values.has(labels[key] ?? '');
  }
  const exists = EXISTS.exec(term);
  if (exists) {
    const [, negated, key = ''] = exists;
    return negated ? (labels) => !Object.hasOwn(labels, key) : (labels) => Object.hasOwn(labels, key);
  }
  throw new InvalidLabelSelectorError(`unable to parse requirement: ${JSON.stringify(term)}`);
}

export function parseLabelSelector(selector: string | undefined): Requirement {
  const requirements = terms(selector ?? '').map(requirement);
  return (labels) => requirements.every((matches) => matches(labels));
}

/** Whether labels carry every pair of a Service's or matchLabels' selector map. */
export function matchesAll(
  labels: Readonly<Record<string, string>>,
  selector: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
