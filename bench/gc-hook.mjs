// Loaded into the bridge by the soak figure only (NODE_OPTIONS=--import=<this file>):
// on SIGUSR2 it runs a full garbage collection and writes one JSON line to stderr with
// the memory left afterwards. V8 collects lazily, so resident memory read at a random
// moment includes garbage; read after a full collection it shows what the bridge keeps.
// It does nothing else: no other signal, no timer, no change to the bridge's code.
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
let collections = 0;

process.on('SIGUSR2', () => {
  gc();
  gc(); // a second pass frees what the first one's finalizers released
  collections += 1;
  const memory = process.memoryUsage();
  const heap = v8.getHeapStatistics();
  process.stderr.write(
    `${JSON.stringify({
      msg: 'bench: full gc',
      time: Date.now(),
      collection: collections,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      mallocedBytes: heap.malloced_memory,
    })}\n`,
  );
});
