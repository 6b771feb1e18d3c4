import { useEffect, useRef } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import uPlot from 'uplot';

/** A small uPlot chart (bars or a line) of one series over x values (seconds since the epoch). */
export function Chart(props: { label: string; xs: number[]; ys: number[]; bars?: boolean; height?: number; yLabel?: string }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!host.current) return undefined;
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    const axis = { stroke: dark ? '#c9d1d9' : '#39414a', grid: { stroke: dark ? '#30363d' : '#e3e6ea', width: 1 }, ticks: { show: false } };
    const width = Math.max(200, host.current.clientWidth || 300);
    plot.current = new uPlot({
      width, height: props.height ?? 120, legend: { show: false }, cursor: { show: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.2)] } },
      axes: [axis, { ...axis, size: 40, ...(props.yLabel ? { label: props.yLabel } : {}) }],
      series: [{}, {
        label: props.label, stroke: dark ? '#58a6ff' : '#0b5cad', width: 2, fill: dark ? '#58a6ff33' : '#0b5cad22',
        ...(props.bars ? { paths: uPlot.paths.bars!({ size: [0.8, 40] }), points: { show: false } } : { points: { show: false } }),
      }],
    }, [props.xs, props.ys], host.current);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, host.current?.clientWidth ?? width), height: props.height ?? 120 }));
    resize.observe(host.current);
    return () => { resize.disconnect(); plot.current?.destroy(); plot.current = null; };
  }, []);
  useEffect(() => { plot.current?.setData([props.xs, props.ys]); }, [props.xs, props.ys]);
  return <div class="chart" ref={host} role="img" aria-label={`${props.label}: ${props.ys.length ? `latest ${props.ys[props.ys.length - 1]}` : 'no data yet'}`} />;
}

/** A modal confirmation (the native <dialog>: focus moves in, Escape cancels). */
export function Confirm(props: { title: string; children: ComponentChildren; confirmLabel: string; danger?: boolean; onConfirm: () => void; onCancel: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
    return () => dialog.current?.close();
  }, []);
  return (
    <dialog ref={dialog} class="confirm" aria-labelledby="confirm-title" onCancel={(e) => { e.preventDefault(); props.onCancel(); }}>
      <h2 id="confirm-title">{props.title}</h2>
      <div class="confirm-body">{props.children}</div>
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onCancel}>Cancel</button>
        <button type="button" class={props.danger ? 'danger' : 'primary'} onClick={props.onConfirm}>{props.confirmLabel}</button>
      </div>
    </dialog>
  );
}

/** A time-left bar: a native <progress> (its value is read out), with the text beside it. */
export function TimeLeft(props: { label: string; left: number; total: number; text: string }) {
  const ratio = props.total > 0 ? Math.max(0, Math.min(1, props.left / props.total)) : 0;
  return (
    <div class="timeleft">
      <progress max={1000} value={Math.round(ratio * 1000)} aria-label={props.label} class={ratio < 0.2 ? 'low' : ''} />
      <span>{props.text}</span>
    </div>
  );
}
