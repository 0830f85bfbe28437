/**
 * aws-local-stepfunctions 3 calls `Promise.withResolvers` (ES2024, Node 22+) for every Task; Node 20
 * lacks it. Installed only where missing, so Node 22 keeps its native one.
 */
if (!Reflect.has(Promise, 'withResolvers')) {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve: (value: T | PromiseLike<T>) => void = () => {};
      let reject: (reason?: unknown) => void = () => {};
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
