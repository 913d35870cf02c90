// The metrics panels and the comparison they draw: dist/metrics.js, loaded with the first panel (extension/metrics.ts).
export { MetricsPanels } from '../../views/metricsPanels';
