// Preloaded into the app by test/ops/shutdown.e2e.test.ts (NODE_OPTIONS=--import): on SIGUSR2 it
// throws an uncaught exception (TEST_FAULT=throw) or leaves a rejected promise unhandled (reject).
process.on('SIGUSR2', () => {
  if (process.env.TEST_FAULT === 'throw') {
    setImmediate(() => {
      throw new Error('thrown by the test on SIGUSR2');
    });
  } else {
    void Promise.reject(new Error('rejected by the test on SIGUSR2'));
  }
});
