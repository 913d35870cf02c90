// The trace feature's engine and report: dist/trace.js, loaded on the first trace (extension/trace.ts).
export { hostAddressForGuest, runTrace, TraceCancelled } from '../../core/trace/engine';
export { writeTraceReport } from '../../core/trace/report';
export { traceTargetFor } from '../../core/trace/target';
