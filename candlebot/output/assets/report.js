// candlebot report: unpacks the columns, builds candle levels for zooming, draws with uPlot (vendored).
// The data is never thinned: every candle is in the file; only the display aggregates candles
// into coarser ones when zoomed out. Every fill is drawn as a marker at every zoom level.
"use strict";
(function () {
  const R = (window.__report = { ready: false, drawnCandles: 0, drawnMarkers: 0, level: 0 });
  const meta = JSON.parse(document.getElementById("cb-meta").textContent);
  const LEVELS = [1, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 604800];
  const GREEN = "#1a9850", RED = "#d73027", LINE_COLORS = ["#ff7f0e", "#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

  function fromBase64(text) {
    if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
    const bin = atob(text), out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  async function unpack() {
    const packed = fromBase64(document.getElementById("cb-data").textContent.trim());
    const inflated = new Blob([packed]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(inflated).arrayBuffer());
  }

  // A column as integers at its decimals (exact in doubles below 2^53): byte planes joined, zigzag undone, deltas summed.
  function ints(bytes, c) {
    const n = c.n, out = new Float64Array(n), p = (k) => bytes.subarray(c.offset + k * n, c.offset + (k + 1) * n);
    let acc = 0;
    if (c.width <= 4) {
      const b0 = p(0), b1 = c.width > 1 ? p(1) : null, b2 = c.width > 2 ? p(2) : null, b3 = c.width > 2 ? p(3) : null;
      for (let i = 0; i < n; i++) {
        let z = b0[i];
        if (b1) z |= b1[i] << 8;
        if (b2) z = (z | (b2[i] << 16) | (b3[i] << 24)) >>> 0;
        const v = z % 2 ? -(z + 1) / 2 : z / 2;
        acc = c.delta ? acc + v : v;
        out[i] = acc;
      }
      return out;
    }
    for (let k = 0, mult = 1; k < c.width; k++, mult *= 256) {
      const b = p(k);
      for (let i = 0; i < n; i++) out[i] += b[i] * mult;
    }
    for (let i = 0; i < n; i++) {
      const z = out[i], v = z % 2 ? -(z + 1) / 2 : z / 2;
      acc = c.delta ? acc + v : v;
      out[i] = acc;
    }
    return out;
  }

  function scaled(values, decimals) {
    const scale = Math.pow(10, decimals);
    if (scale !== 1) for (let i = 0; i < values.length; i++) values[i] /= scale;
    return values;
  }

  function column(bytes, c) {
    const out = scaled(ints(bytes, c), c.decimals);
    for (const [a, b] of c.gaps || []) out.fill(NaN, a, b);
    return out;
  }

  function candles(bytes) {
    const cols = meta.columns, n = cols.open_gap.n;
    const t = ints(bytes, cols.time), o = ints(bytes, cols.open_gap), h = ints(bytes, cols.high_ext);
    const l = ints(bytes, cols.low_ext), c = ints(bytes, cols.close_move);
    let prev = 0;
    for (let i = 0; i < n; i++) {  // in ticks: open = previous close + gap, close = open + move, extremes beyond the body
      o[i] += prev;
      c[i] += o[i];
      h[i] += Math.max(o[i], c[i]);
      l[i] = Math.min(o[i], c[i]) - l[i];
      prev = c[i];
    }
    const d = cols.open_gap.decimals;
    return { t, o: scaled(o, d), h: scaled(h, d), l: scaled(l, d), c: scaled(c, d) };
  }

  // Equity marked at every candle's close from the fills (cash moves at the candle of the fill), as the metrics do.
  function equity(base, fills) {
    const n = base.t.length, eq = new Float64Array(n), dd = new Float64Array(n);
    let cash = meta.start_cash, pos = 0, k = 0, peak = meta.start_cash;
    for (let i = 0; i < n; i++) {
      const until = i + 1 < n ? base.t[i + 1] : Infinity;
      while (k < fills.n && fills.t[k] < until) {
        const sell = fills.side[k] === 1;
        cash += (sell ? 1 : -1) * fills.cost[k] - fills.fee[k];
        pos += (sell ? -1 : 1) * fills.volume[k];
        k++;
      }
      if (Math.abs(pos) < 1e-12) pos = 0;
      eq[i] = cash + pos * base.c[i];
      peak = Math.max(peak, eq[i]);
      dd[i] = peak > 0 ? -(peak - eq[i]) / peak * 100 : 0;
    }
    return { eq, dd };
  }

  function fillColumns(bytes) {
    const cols = meta.fill_columns;
    const get = (name) => column(bytes, cols[name]);
    const f = { n: cols.time.n, t: get("time"), side: get("side"), price: get("price"), volume: get("volume"),
                cost: get("cost"), fee: get("fee"), pnl: get("pnl"), trade: get("trade"), reason: get("reason") };
    f.entry = new Map();
    for (let i = 0; i < f.n; i++) if (f.side[i] === 0) f.entry.set(f.trade[i], i);
    return f;
  }

  // One display level: candles grouped into buckets of `period` seconds (open of first, max high, min low, close of last);
  // lines and equity take the bucket's last value, drawdown its deepest.
  function aggregate(base, extra, period) {
    if (period === meta.period) return Object.assign({ period }, base, extra);
    const n = base.t.length, idx = [];
    let last = -Infinity;
    for (let i = 0; i < n; i++) {
      const b = Math.floor(base.t[i] / period) * period;
      if (b !== last) { idx.push(i); last = b; }
    }
    const m = idx.length, out = { period, t: new Float64Array(m), o: new Float64Array(m), h: new Float64Array(m),
      l: new Float64Array(m), c: new Float64Array(m) };
    const names = Object.keys(extra);
    for (const name of names) out[name] = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      const a = idx[j], z = j + 1 < m ? idx[j + 1] : n;
      let hi = -Infinity, lo = Infinity;
      for (let i = a; i < z; i++) { if (base.h[i] > hi) hi = base.h[i]; if (base.l[i] < lo) lo = base.l[i]; }
      out.t[j] = Math.floor(base.t[a] / period) * period; out.o[j] = base.o[a]; out.h[j] = hi; out.l[j] = lo; out.c[j] = base.c[z - 1];
      for (const name of names) {
        const src = extra[name];
        if (name === "dd") { let d = 0; for (let i = a; i < z; i++) if (src[i] < d) d = src[i]; out[name][j] = d; }
        else out[name][j] = src[z - 1];
      }
    }
    return out;
  }

  function lowerBound(arr, x) {
    let a = 0, b = arr.length;
    while (a < b) { const m = (a + b) >> 1; if (arr[m] < x) a = m + 1; else b = m; }
    return a;
  }

  function fmtTime(t) { return new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19); }
  function fmtPeriod(s) {
    return s >= 86400 ? s / 86400 + " d" : s >= 3600 ? s / 3600 + " h" : s >= 60 ? s / 60 + " min" : s + " s";
  }

  async function main() {
    const mark = (name) => (R.timings[name] = Math.round(performance.now()));
    R.timings = {};
    mark("start");
    const bytes = await unpack();
    mark("inflated");
    const base = candles(bytes);
    const fills = fillColumns(bytes);
    const lines = meta.lines.map((l) => ({ name: l.name, overlay: l.overlay, values: column(bytes, meta.columns["line:" + l.name]) }));
    mark("decoded");
    const { eq, dd } = equity(base, fills);
    mark("equity");
    const extra = { eq, dd };
    lines.forEach((l, k) => (extra["line" + k] = l.values));
    const firstOpen = base.o[0];
    const periods = LEVELS.filter((p) => p >= meta.period && p % meta.period === 0);
    if (periods[0] !== meta.period) periods.unshift(meta.period);
    const levels = new Map();
    const level = (p) => { if (!levels.has(p)) levels.set(p, aggregate(base, extra, p)); return levels.get(p); };
    const overlays = lines.map((l, k) => [l, k]).filter(([l]) => l.overlay);
    const panes = lines.map((l, k) => [l, k]).filter(([l]) => !l.overlay);
    const width = () => Math.max(400, document.getElementById("cb-charts").clientWidth - 10);
    const t0 = base.t[0], t1 = base.t[base.t.length - 1] + meta.period;

    function pickPeriod(min, max) {
      const budget = Math.max(50, width() / 3);
      for (const p of periods) if ((max - min) / p <= budget) return p;
      return periods[periods.length - 1];
    }

    let current = level(pickPeriod(t0, t1));
    mark("level");
    const withGaps = (L, k) => {  // uPlot takes null, not NaN, for a missing value (indicator warm-up)
      const key = "gaps" + k;
      if (!L[key]) L[key] = Array.from(L["line" + k], (v) => (v === v ? v : null));
      return L[key];
    };
    const dataFor = {
      price: (L) => [L.t, L.c, L.h, L.l, ...overlays.map(([, k]) => withGaps(L, k))],
      equity: (L) => [L.t, L.eq, Array.from(L.c, (c) => (meta.start_cash * c) / firstOpen)],
      drawdown: (L) => [L.t, L.dd],
      lines: (L) => [L.t, ...panes.map(([, k]) => withGaps(L, k))],
    };

    function visibleRange(u) {
      const L = current, a = lowerBound(L.t, u.scales.x.min - L.period), b = lowerBound(L.t, u.scales.x.max + 1);
      return [a, Math.min(b, L.t.length)];
    }

    function drawCandles(u) {
      const L = current, [a, b] = visibleRange(u), ctx = u.ctx;
      const px = (u.valToPos(L.t[0] + L.period, "x", true) - u.valToPos(L.t[0], "x", true));
      const body = Math.max(1, Math.min(px * 0.7, 40));
      ctx.save();
      ctx.beginPath(); ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height); ctx.clip();
      let drawn = 0;
      for (let i = a; i < b; i++) {
        const x = u.valToPos(L.t[i] + L.period / 2, "x", true);
        const up = L.c[i] >= L.o[i];
        ctx.fillStyle = ctx.strokeStyle = up ? GREEN : RED;
        const yh = u.valToPos(L.h[i], "y", true), yl = u.valToPos(L.l[i], "y", true);
        const yo = u.valToPos(L.o[i], "y", true), yc = u.valToPos(L.c[i], "y", true);
        ctx.fillRect(Math.round(x) - 0.5, yh, 1, Math.max(1, yl - yh));
        ctx.fillRect(x - body / 2, Math.min(yo, yc), body, Math.max(1, Math.abs(yc - yo)));
        drawn++;
      }
      ctx.restore();
      R.drawnCandles = drawn;
    }

    function drawFills(u) {  // every fill in view, one path per side (tens of thousands of triangles in one fill call)
      const ctx = u.ctx, L = current, min = u.scales.x.min, max = u.scales.x.max, s = 5 * devicePixelRatio;
      ctx.save();
      ctx.beginPath(); ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height); ctx.clip();
      const first = lowerBound(fills.t, min - L.period);
      let drawn = 0;
      for (const side of [0, 1]) {
        const buy = side === 0, dy = buy ? 1.6 * s : -1.6 * s;
        ctx.fillStyle = buy ? "#0050ff" : "#ff00aa";
        ctx.strokeStyle = "rgba(0,0,0,0.6)";
        ctx.lineWidth = devicePixelRatio * 0.5;
        let batch = 0;
        ctx.beginPath();
        for (let k = first; k < fills.n && fills.t[k] <= max; k++) {
          if (fills.side[k] !== side) continue;
          const bucket = Math.floor(fills.t[k] / L.period) * L.period;
          const x = u.valToPos(bucket + L.period / 2, "x", true), y = u.valToPos(fills.price[k], "y", true);
          ctx.moveTo(x, y); ctx.lineTo(x - s, y + dy); ctx.lineTo(x + s, y + dy); ctx.closePath();
          drawn++;
          if (++batch === 64) { ctx.fill(); ctx.stroke(); ctx.beginPath(); batch = 0; }  // short paths: canvas strokes long ones slowly
        }
        ctx.fill(); ctx.stroke();
      }
      ctx.restore();
      R.drawnMarkers = drawn;
    }

    const tip = document.getElementById("cb-tip"), info = document.getElementById("cb-info");
    const reasonNames = meta.reasons, dec = meta.decimals;
    function fillText(k) {
      const side = fills.side[k] === 0 ? "BUY" : "SELL";
      let s = `<b>${side}</b> #${fills.trade[k]} ${fmtTime(fills.t[k])}<br>` +
        `volume ${fills.volume[k].toFixed(dec.volume)} @ ${fills.price[k].toFixed(dec.price)}<br>` +
        `cost ${fills.cost[k].toFixed(dec.cost)}, fee ${fills.fee[k].toFixed(dec.cost)}`;
      if (side === "SELL") {
        const e = fills.entry.get(fills.trade[k]);
        if (e !== undefined) s += `<br>entry ${fills.price[e].toFixed(dec.price)} → exit ${fills.price[k].toFixed(dec.price)}`;
        s += `<br>net P/L <b>${fills.pnl[k].toFixed(dec.cost)}</b> (${reasonNames[fills.reason[k]] || "?"})`;
      }
      return s;
    }

    function hover(u) {
      const { left, top, idx } = u.cursor;
      const L = current;
      if (idx != null && idx < L.t.length) {
        info.textContent = `${fmtTime(L.t[idx])} UTC  [${fmtPeriod(L.period)} candles]  O ${L.o[idx]}  H ${L.h[idx]}  L ${L.l[idx]}  C ${L.c[idx]}`;
      }
      if (left == null || left < 0) { tip.style.display = "none"; return; }
      const near = [], a = u.posToVal(left - 8, "x"), b = u.posToVal(left + 8, "x");
      for (let k = lowerBound(fills.t, a - L.period); k < fills.n && fills.t[k] <= b; k++) {
        const bucket = Math.floor(fills.t[k] / L.period) * L.period;
        const x = u.valToPos(bucket + L.period / 2, "x"), y = u.valToPos(fills.price[k], "y");
        if (Math.abs(x - left) <= 8 && Math.abs(y - top) <= 14) near.push(k);
      }
      if (!near.length) { tip.style.display = "none"; return; }
      tip.innerHTML = near.slice(0, 6).map(fillText).join("<hr>") + (near.length > 6 ? `<br>… ${near.length - 6} more` : "");
      const r = u.over.getBoundingClientRect();
      tip.style.left = r.left + window.scrollX + left + 14 + "px";
      tip.style.top = r.top + window.scrollY + top + 14 + "px";
      tip.style.display = "block";
    }

    const charts = [];
    let syncing = false;
    function onScale(u, key) {
      if (key !== "x" || syncing) return;
      syncing = true;
      const { min, max } = u.scales.x;
      const p = pickPeriod(min, max);
      if (p !== current.period) {
        current = level(p);
        R.level = p;
        for (const ch of charts) ch.u.setData(dataFor[ch.kind](current), false);
      }
      for (const ch of charts) if (ch.u !== u || p !== R.shown) ch.u.setScale("x", { min, max });
      R.shown = p;
      syncing = false;
    }

    function wheelZoom(u) {
      u.over.addEventListener("wheel", (e) => {
        e.preventDefault();
        const { min, max } = u.scales.x, at = u.posToVal(e.offsetX, "x");
        const f = e.deltaY < 0 ? 0.75 : 1 / 0.75;
        let a = at - (at - min) * f, b = at + (max - at) * f;
        if (b - a < meta.period * 10) return;
        a = Math.max(t0, a); b = Math.min(t1, b);
        u.setScale("x", { min: a, max: b });
      }, { passive: false });
    }

    function make(kind, el, height, series, extraOpts) {
      const opts = Object.assign({
        width: width(), height, series: [{ value: (u, v) => (v == null ? "" : fmtTime(v)) }, ...series],
        scales: { x: { time: true } },
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),  // axes in UTC, as the title and the hover
        cursor: { sync: { key: "cb" }, drag: { x: true, y: false, setScale: true } },
        legend: { live: true },
        axes: [{}, { size: 80 }],
        hooks: { setScale: [onScale], ready: [wheelZoom] },
      }, extraOpts || {});
      const u = new uPlot(opts, dataFor[kind](current), document.getElementById(el));
      charts.push({ kind, u });
      return u;
    }

    const price = make("price", "cb-price", 420, [
      // close, high and low are not drawn as lines (the candles are): they give the legend and uPlot's y range
      { label: "close", stroke: "transparent", paths: () => null, points: { show: false } },
      { label: "high", stroke: "transparent", paths: () => null, points: { show: false } },
      { label: "low", stroke: "transparent", paths: () => null, points: { show: false } },
      ...overlays.map(([l], j) => ({ label: l.name, stroke: LINE_COLORS[j % LINE_COLORS.length], width: 1.2, points: { show: false } })),
    ], {
      scales: { x: { time: true } },
      hooks: { setScale: [onScale], ready: [wheelZoom], drawClear: [], draw: [drawCandles, drawFills], setCursor: [hover] },
    });
    make("equity", "cb-equity", 200, [
      { label: "equity", stroke: "#1f77b4", width: 1.5, points: { show: false } },
      { label: "buy & hold", stroke: "#999", width: 1, dash: [4, 3], points: { show: false } },
    ], { scales: { x: { time: true } } });
    make("drawdown", "cb-drawdown", 140, [
      { label: "drawdown %", stroke: RED, fill: "rgba(215,48,39,0.25)", width: 1, points: { show: false } },
    ], { scales: { x: { time: true } } });
    if (panes.length) {
      make("lines", "cb-lines", 160, panes.map(([l], j) => ({ label: l.name, stroke: LINE_COLORS[(j + 2) % LINE_COLORS.length], width: 1.2, points: { show: false } })),
        { scales: { x: { time: true } } });
    }
    R.level = current.period;
    R.charts = charts.map((c) => c.u);
    R.fills = fills.n;
    R.candles = base.t.length;
    R.zoomTo = (min, max) => price.setScale("x", { min, max });
    R.candleAt = (i) => [base.t[i], base.o[i], base.h[i], base.l[i], base.c[i], eq[i]];  // the file's own candle i, and the equity
    R.range = [t0, t1];
    window.addEventListener("resize", () => charts.forEach((c) => c.u.setSize({ width: width(), height: c.u.height })));
    price.setScale("x", { min: t0, max: t1 });
    await new Promise((r) => requestAnimationFrame(() => r()));
    mark("drawn");
    R.ready = true;
    R.readyMs = performance.now();
    document.getElementById("cb-status").textContent = "";
  }

  main().catch((e) => {
    document.getElementById("cb-status").textContent = "This report could not be drawn: " + e;
    throw e;
  });
})();
