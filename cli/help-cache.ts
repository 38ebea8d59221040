/**
 * yargs lays out the whole help text each time a command starts, and keeps it to print on a later
 * failure. Our fail handler never prints it (cli/main.ts), and the layout cost about 0.1 s of CPU
 * on the main thread of every run (string widths measured character by character). This turns
 * that cache off through yargs' internal methods. Returns false when they are not there (another
 * yargs version): nothing changes then, and a test notices.
 */
export function skipHelpCache(cli: unknown): boolean {
  type Usage = { cacheHelpMessage?: () => void };
  const usage = (cli as { getInternalMethods?: () => { getUsageInstance?: () => Usage } }).getInternalMethods?.().getUsageInstance?.();
  if (!usage || typeof usage.cacheHelpMessage !== 'function') return false;
  usage.cacheHelpMessage = () => undefined;
  return true;
}
