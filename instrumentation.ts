// Next calls register() once per server process: start the worker, jobs and sandbox there.
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { startInProcess } = await import('./lib/runtime');
  await startInProcess();
}
