// The benchmark feature's engine: dist/bench.js, loaded on the first benchmark (extension/bench.ts).
export { BenchCancelled, runBenchmark } from '../../core/bench/engine';
export { resolveTargets } from '../../core/bench/resolve';
