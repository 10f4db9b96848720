import * as React from 'react';

import { useTrans } from '../trans';
import { Smops } from '../types';

const WIDTH = 260;
const HEIGHT = 84;
/** Room for the y labels (left) and the x labels (below). */
const LEFT = 34;
const BOTTOM = 16;
const TOP = 6;
const RIGHT = 6;
/** Bars are drawn in at least this many slots, so a few requests give thin bars, not blocks. */
const MIN_SLOTS = 25;

/** The median of some numbers (0 for none). */
export function median(values: number[]): number {
  if (!values.length) {
    return 0;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The latency of every request sent so far (newest right) as bars, failed ones in the error
 * colour and marked ×; axes: ms up the left, request number along the bottom.
 */
export function LatencyChart({
  requests
}: {
  requests: Smops.IInvocation[];
}): JSX.Element | null {
  const trans = useTrans();
  if (!requests.length) {
    return null;
  }
  const latencies = requests.map(r => r.latencyMs);
  const max = Math.max(...latencies, 1);
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const slots = Math.max(requests.length, MIN_SLOTS);
  const step = plotW / slots;
  const barWidth = Math.max(1, step - 2);
  const failed = requests.filter(r => r.ok === false).length;
  const ok = requests.filter(r => r.ok !== false).map(r => r.latencyMs);
  const mid = median(ok);
  const baseY = TOP + plotH;
  const summary =
    trans._n('%1 request', '%1 requests', requests.length) +
    (failed ? trans.__(', %1 failed', failed) : '') +
    (ok.length ? trans.__(' · median %1 ms', mid.toFixed(1)) : '') +
    trans.__(' · max %1 ms', max.toFixed(1));
  return (
    <figure className="jp-smops-chart">
      <svg
        width={WIDTH}
        height={HEIGHT}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={trans.__('Latency: %1', summary)}
      >
        <line x1={LEFT} x2={LEFT} y1={TOP} y2={baseY} className="jp-smops-chart-axis" />
        <line x1={LEFT} x2={WIDTH - RIGHT} y1={baseY} y2={baseY} className="jp-smops-chart-axis" />
        <text className="jp-smops-chart-label" x={LEFT - 3} y={TOP + 8} textAnchor="end">
          {max.toFixed(max < 10 ? 1 : 0)}
        </text>
        <text className="jp-smops-chart-label" x={LEFT - 3} y={baseY} textAnchor="end">
          {trans.__('0 ms')}
        </text>
        <text className="jp-smops-chart-label" x={LEFT} y={HEIGHT - 3} textAnchor="start">
          #1
        </text>
        <text
          className="jp-smops-chart-label"
          x={LEFT + plotW / 2}
          y={HEIGHT - 3}
          textAnchor="middle"
        >
          {trans.__('requests')}
        </text>
        {/* The right end is the last slot: under 25 requests that is slot 25, not the newest
            request, whose bar stands further left. */}
        <text className="jp-smops-chart-label" x={WIDTH - RIGHT} y={HEIGHT - 3} textAnchor="end">
          #{slots}
        </text>
        {requests.map((r, i) => {
          const h = Math.max(1, (plotH * r.latencyMs) / max);
          const bad = r.ok === false;
          const x = LEFT + 1 + i * step;
          return (
            <g key={i}>
              <rect
                className={bad ? 'jp-smops-chart-bar jp-smops-chart-bar-failed' : 'jp-smops-chart-bar'}
                data-failed={bad || undefined}
                x={x}
                y={baseY - h}
                width={barWidth}
                height={h}
              >
                <title>
                  {trans.__('#%1: %2 ms', i + 1, r.latencyMs.toFixed(1)) +
                    (bad
                      ? r.status
                        ? trans.__(' · failed (HTTP %1)', r.status)
                        : trans.__(' · failed')
                      : '')}
                </title>
              </rect>
              {bad && (
                <text
                  className="jp-smops-chart-failed-mark"
                  x={x + barWidth / 2}
                  y={baseY - h - 2}
                  textAnchor="middle"
                  aria-hidden="true"
                >
                  ×
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="jp-smops-muted">{summary}</figcaption>
    </figure>
  );
}
