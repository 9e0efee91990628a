// Preloaded into a child process (node -r): prints its peak RSS on exit, for tests that bound a command's memory.
process.on('exit', () => {
  process.stderr.write(`\nFLEETCHAT_MAX_RSS_KIB=${process.resourceUsage().maxRSS}\n`);
});
