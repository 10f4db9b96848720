import * as React from 'react';

const WIDTH = 240;
const HEIGHT = 60;
const PAD = 4;
/** Bars are drawn in at least this many slots, so a few requests give thin bars, not blocks. */
const MIN_SLOTS = 25;

/** Bars of the latencies of the requests sent so far (newest right), in an inline SVG. */
export function LatencyChart({ latencies }: { latencies: number[] }): JSX.Element | null {
  if (!latencies.length) {
    return null;
  }
  const max = Math.max(...latencies, 1);
  const step = (WIDTH - 2 * PAD) / Math.max(latencies.length, MIN_SLOTS);
  const barWidth = Math.max(1, step - 2);
  const sorted = [...latencies].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return (
    <figure className="jp-smops-chart">
      <svg
        width={WIDTH}
        height={HEIGHT}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Latency of ${latencies.length} requests: median ${median.toFixed(1)} ms, max ${max.toFixed(1)} ms`}
      >
        <line
          x1={PAD}
          x2={WIDTH - PAD}
          y1={HEIGHT - PAD}
          y2={HEIGHT - PAD}
          className="jp-smops-chart-axis"
        />
        {latencies.map((ms, i) => {
          const h = Math.max(1, ((HEIGHT - 2 * PAD) * ms) / max);
          return (
            <rect
              key={i}
              className="jp-smops-chart-bar"
              x={PAD + i * step}
              y={HEIGHT - PAD - h}
              width={barWidth}
              height={h}
            >
              <title>{`${ms.toFixed(1)} ms`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption className="jp-smops-muted">
        {latencies.length} request{latencies.length === 1 ? '' : 's'} · median{' '}
        {median.toFixed(1)} ms · max {max.toFixed(1)} ms
      </figcaption>
    </figure>
  );
}
