/*
 * Battery Optimizer plan card: the plan of a Battery Optimizer entry at a glance.
 *
 *   type: custom:battery-optimizer-plan-card
 *   entity: sensor.battery_optimizer_recommended_mode
 *   title: Battery plan        # optional
 *   table_slots: 8             # optional, rows in the table of coming half-hours (0 hides it)
 *   reason_entity: sensor...   # optional, found from the same device when left out
 *
 * Plain custom element without dependencies; draws SVG, styled by the theme's CSS variables.
 * Mode colours can be themed with --battery-optimizer-<mode>-color (mode with dashes).
 */

const CARD_TYPE = "battery-optimizer-plan-card";
const DEFAULT_TABLE_SLOTS = 8;
const MAX_TABLE_SLOTS = 48;
const SLOT_MS = 30 * 60 * 1000;
const CHART_HEIGHT_PX = 250;
const FALLBACK_WIDTH_PX = 480;
const SVG_NS = "http://www.w3.org/2000/svg";

const MODES = {
  self_use: { label: "Self use", color: "var(--battery-optimizer-self-use-color, var(--success-color, #43a047))" },
  force_charge: { label: "Force charge", color: "var(--battery-optimizer-force-charge-color, var(--info-color, #039be5))" },
  force_discharge: { label: "Force discharge", color: "var(--battery-optimizer-force-discharge-color, var(--warning-color, #ff9800))" },
  hold: { label: "Hold", color: "var(--battery-optimizer-hold-color, var(--disabled-color, #9e9e9e))" },
  feed_in_first: { label: "Feed-in first", color: "var(--battery-optimizer-feed-in-first-color, #8e24aa)" },
};
const UNKNOWN_MODE_COLOR = "var(--secondary-text-color, #727272)";

const STYLE = `
  :host { display: block; }
  ha-card { padding: 12px 16px 16px; color: var(--primary-text-color); }
  .header { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; flex-wrap: wrap; }
  .title { font-size: 1.2em; font-weight: 500; }
  .mode { font-weight: 600; padding: 2px 10px; border-radius: 12px; color: var(--text-primary-color, #fff); }
  .reason { margin: 6px 0 8px; color: var(--secondary-text-color); line-height: 1.35; }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 0.85em; color: var(--secondary-text-color); margin: 4px 0; }
  .legend span { display: inline-flex; align-items: center; gap: 4px; }
  .swatch { width: 10px; height: 10px; border-radius: 2px; display: inline-block; }
  .line { width: 14px; height: 0; border-top: 2px solid; display: inline-block; }
  .line.dashed { border-top-style: dashed; }
  .chart { width: 100%; }
  .chart svg { display: block; width: 100%; overflow: visible; }
  .chart text { fill: var(--secondary-text-color); font-size: 11px; font-family: inherit; }
  .summary { font-size: 0.85em; color: var(--secondary-text-color); margin-top: 4px; }
  table { width: 100%; border-collapse: collapse; margin-top: 8px; font-size: 0.9em; font-variant-numeric: tabular-nums; }
  th { text-align: right; font-weight: 500; color: var(--secondary-text-color); padding: 2px 4px; border-bottom: 1px solid var(--divider-color); }
  td { text-align: right; padding: 3px 4px; border-bottom: 1px solid var(--divider-color); }
  th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
  tr.now td { font-weight: 600; background: var(--secondary-background-color); }
  .dot { width: 8px; height: 8px; border-radius: 50%; display: inline-block; margin-right: 6px; }
  .message { padding: 8px 0; color: var(--secondary-text-color); }
  .message.warning { color: var(--error-color, #db4437); }
`;

function modeColor(mode) {
  return (MODES[mode] || {}).color || UNKNOWN_MODE_COLOR;
}

function svg(tag, attributes, text) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function html(tag, attributes, text) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/* Round a value range out to tidy gridline steps. */
function niceScale(low, high, targetTicks) {
  if (!(high > low)) {
    high = low + 1;
  }
  const rawStep = (high - low) / targetTicks;
  const magnitude = 10 ** Math.floor(Math.log10(rawStep));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rawStep);
  return { min: Math.floor(low / step) * step, max: Math.ceil(high / step) * step, step };
}

function ticks(scale) {
  const values = [];
  for (let v = scale.min; v <= scale.max + scale.step / 2; v += scale.step) values.push(Math.round(v * 100) / 100);
  return values;
}

class BatteryOptimizerPlanCard extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._config = undefined;
    this._hass = undefined;
    this._renderedKey = undefined;
    this._widthPx = 0;
    this._resizeObserver = undefined;
  }

  static getStubConfig(hass) {
    const entity = Object.keys((hass && hass.states) || {}).find(
      (id) => id.startsWith("sensor.") && Array.isArray(hass.states[id].attributes.plan)
    );
    return { entity: entity || "sensor.battery_optimizer_recommended_mode" };
  }

  setConfig(config) {
    if (!config || typeof config !== "object") {
      throw new Error("Battery Optimizer plan card: the configuration must be a mapping");
    }
    if (typeof config.entity !== "string" || !/^sensor\.[a-z0-9_]+$/.test(config.entity)) {
      throw new Error(
        "Battery Optimizer plan card: set 'entity' to the recommended mode sensor, e.g. sensor.battery_optimizer_recommended_mode"
      );
    }
    if (config.reason_entity !== undefined && (typeof config.reason_entity !== "string" || !config.reason_entity.includes("."))) {
      throw new Error("Battery Optimizer plan card: 'reason_entity' must be an entity id");
    }
    const tableSlots = config.table_slots === undefined ? DEFAULT_TABLE_SLOTS : config.table_slots;
    if (!Number.isInteger(tableSlots) || tableSlots < 0 || tableSlots > MAX_TABLE_SLOTS) {
      throw new Error(`Battery Optimizer plan card: 'table_slots' must be a whole number from 0 to ${MAX_TABLE_SLOTS}`);
    }
    this._config = { ...config, table_slots: tableSlots };
    this._renderedKey = undefined;
    this._render();
  }

  set hass(hass) {
    this._hass = hass;
    this._render();
  }

  get hass() {
    return this._hass;
  }

  getCardSize() {
    // One unit is about 50 px: header and reason, the chart, then the table rows.
    const tableSlots = this._config ? this._config.table_slots : DEFAULT_TABLE_SLOTS;
    return 2 + Math.ceil(CHART_HEIGHT_PX / 50) + Math.ceil((tableSlots + 1) / 2);
  }

  getGridOptions() {
    return { columns: "full", min_columns: 6, rows: "auto" };
  }

  connectedCallback() {
    if (typeof ResizeObserver === "undefined" || this._resizeObserver) return;
    this._resizeObserver = new ResizeObserver((entries) => {
      const width = Math.round(entries[0].contentRect.width);
      if (width > 0 && Math.abs(width - this._widthPx) > 4) {
        this._widthPx = width;
        this._renderedKey = undefined;
        this._render();
      }
    });
    this._resizeObserver.observe(this);
  }

  disconnectedCallback() {
    if (this._resizeObserver) this._resizeObserver.disconnect();
    this._resizeObserver = undefined;
  }

  _reasonEntityId() {
    if (this._config.reason_entity) return this._config.reason_entity;
    const entities = this._hass.entities || {};
    const own = entities[this._config.entity];
    if (own && own.device_id) {
      const match = Object.values(entities).find(
        (e) => e.device_id === own.device_id && e.translation_key === "reason"
      );
      if (match) return match.entity_id;
    }
    return this._config.entity.replace(/recommended_mode$/, "reason");
  }

  _formatMode(stateObj, mode) {
    if (this._hass.formatEntityState) {
      const text = this._hass.formatEntityState(stateObj, mode);
      if (text && text !== mode) return text;
    }
    return (MODES[mode] || {}).label || mode;
  }

  _timeFormat(options) {
    const locale = this._hass.locale || {};
    const timeZone = locale.time_zone === "server" && this._hass.config ? this._hass.config.time_zone : undefined;
    try {
      return new Intl.DateTimeFormat(locale.language || this._hass.language || undefined, { ...options, timeZone });
    } catch (_error) {
      return new Intl.DateTimeFormat(undefined, options);
    }
  }

  _render() {
    if (!this._config || !this._hass) return;
    const stateObj = this._hass.states[this._config.entity];
    const reasonId = this._reasonEntityId();
    const reasonObj = this._hass.states[reasonId];
    // Re-draw only when something shown has changed (hass is set on every state change
    // in HA); the half-hour is part of the key because the current slot moves with the clock.
    const key = [stateObj, reasonObj, this._widthPx, Math.floor(Date.now() / SLOT_MS)];
    if (this._renderedKey && key.every((part, i) => part === this._renderedKey[i])) return;
    this._renderedKey = key;

    const root = this.shadowRoot;
    root.replaceChildren();
    root.appendChild(html("style", {}, STYLE));
    const card = html("ha-card", {});
    root.appendChild(card);

    const header = html("div", { class: "header" });
    header.appendChild(html("div", { class: "title" }, this._config.title || "Battery plan"));
    card.appendChild(header);

    if (!stateObj) {
      card.appendChild(html("div", { class: "message warning" }, `Entity not found: ${this._config.entity}`));
      card.dataset.slots = "0";
      return;
    }
    const plan = Array.isArray(stateObj.attributes.plan) ? stateObj.attributes.plan : [];
    const mode = stateObj.state;
    const available = mode !== "unavailable" && mode !== "unknown";
    const badge = html("div", { class: "mode" }, this._formatMode(stateObj, mode));
    badge.style.background = available ? modeColor(mode) : UNKNOWN_MODE_COLOR;
    header.appendChild(badge);
    if (reasonObj && reasonObj.state && reasonObj.state !== "unknown" && reasonObj.state !== "unavailable") {
      card.appendChild(html("div", { class: "reason" }, reasonObj.state));
    }
    card.dataset.slots = String(plan.length);
    card.dataset.mode = mode;
    if (plan.length === 0) {
      card.appendChild(html("div", { class: "message" }, available ? "No plan yet: waiting for prices and the state of charge." : "The plan is unavailable."));
      return;
    }

    const slots = plan.map((slot) => ({ ...slot, startMs: Date.parse(slot.start) }));
    const currentIndex = this._currentIndex(slots);
    card.appendChild(this._legend(slots));
    const chart = html("div", { class: "chart" });
    chart.appendChild(this._chart(slots, currentIndex));
    card.appendChild(chart);
    const hours = ((slots[slots.length - 1].startMs + SLOT_MS - slots[0].startMs) / 3600000).toFixed(0);
    card.appendChild(html("div", { class: "summary" }, `${slots.length} half-hours planned, about ${hours} h ahead`));
    if (this._config.table_slots > 0) card.appendChild(this._table(stateObj, slots, currentIndex));
  }

  _currentIndex(slots) {
    const now = Date.now();
    let index = 0;
    for (let i = 0; i < slots.length; i += 1) {
      if (slots[i].startMs <= now) index = i;
    }
    return index;
  }

  _legend(slots) {
    const legend = html("div", { class: "legend" });
    const addLine = (color, label, dashed) => {
      const item = html("span");
      const line = html("span", { class: dashed ? "line dashed" : "line" });
      line.style.borderTopColor = color;
      item.append(line, label);
      legend.appendChild(item);
    };
    addLine("var(--primary-color)", "Import p/kWh", false);
    addLine("var(--accent-color, #ff9800)", "Export p/kWh", true);
    addLine("var(--primary-text-color)", "State of charge %", false);
    for (const mode of new Set(slots.map((s) => s.mode))) {
      const item = html("span");
      const swatch = html("span", { class: "swatch" });
      swatch.style.background = modeColor(mode);
      item.append(swatch, this._formatMode(this._hass.states[this._config.entity], mode));
      legend.appendChild(item);
    }
    return legend;
  }

  _chart(slots, currentIndex) {
    const width = this._widthPx || this.clientWidth || FALLBACK_WIDTH_PX;
    const left = 40;
    const right = 34;
    const plotWidth = Math.max(width - left - right, 50);
    const priceTop = 8;
    const priceHeight = 120;
    const powerTop = priceTop + priceHeight + 14;
    const powerHeight = 80;
    const axisY = powerTop + powerHeight + 14;
    const root = svg("svg", { width, height: CHART_HEIGHT_PX, viewBox: `0 0 ${width} ${CHART_HEIGHT_PX}`, role: "img" });
    root.appendChild(svg("title", {}, "Planned prices, state of charge and battery power"));

    const startMs = slots[0].startMs;
    const endMs = slots[slots.length - 1].startMs + SLOT_MS;
    const x = (ms) => left + ((ms - startMs) / (endMs - startMs)) * plotWidth;
    const slotEnd = (i) => (i + 1 < slots.length ? slots[i + 1].startMs : slots[i].startMs + SLOT_MS);

    const prices = slots.flatMap((s) => [s.import_price, s.export_price]).filter((p) => Number.isFinite(p));
    const priceScale = niceScale(Math.min(0, ...prices), Math.max(...prices), 4);
    const priceY = (p) => priceTop + priceHeight - ((p - priceScale.min) / (priceScale.max - priceScale.min)) * priceHeight;
    const powerMax = Math.max(0.5, ...slots.map((s) => Math.abs(s.power || 0)));
    const powerScale = niceScale(-powerMax, powerMax, 4);
    const powerY = (kw) => powerTop + powerHeight - ((kw - powerScale.min) / (powerScale.max - powerScale.min)) * powerHeight;
    const socY = (pct) => powerTop + powerHeight - (pct / 100) * powerHeight;

    // Mode bands behind the prices, so the colour says what the battery does at each price.
    slots.forEach((slot, i) => {
      root.appendChild(svg("rect", {
        x: x(slot.startMs), y: priceTop, width: Math.max(x(slotEnd(i)) - x(slot.startMs), 0.5), height: priceHeight,
        fill: modeColor(slot.mode), "fill-opacity": 0.16, class: `band mode-${slot.mode}`,
      }));
    });

    for (const value of ticks(priceScale)) {
      root.appendChild(svg("line", { x1: left, x2: left + plotWidth, y1: priceY(value), y2: priceY(value), stroke: "var(--divider-color)", "stroke-width": value === 0 ? 1.2 : 0.6 }));
      root.appendChild(svg("text", { x: left - 4, y: priceY(value) + 4, "text-anchor": "end" }, String(value)));
    }
    root.appendChild(svg("text", { x: 0, y: priceTop + 8 }, "p"));

    const stepPath = (value, y) => {
      let d = "";
      slots.forEach((slot, i) => {
        const v = value(slot);
        if (!Number.isFinite(v)) return;
        d += `${d ? "L" : "M"}${x(slot.startMs).toFixed(1)},${y(v).toFixed(1)}L${x(slotEnd(i)).toFixed(1)},${y(v).toFixed(1)}`;
      });
      return d;
    };
    root.appendChild(svg("path", { d: stepPath((s) => s.export_price, priceY), fill: "none", stroke: "var(--accent-color, #ff9800)", "stroke-width": 1.5, "stroke-dasharray": "4 3", class: "export-price" }));
    root.appendChild(svg("path", { d: stepPath((s) => s.import_price, priceY), fill: "none", stroke: "var(--primary-color)", "stroke-width": 2, class: "import-price" }));

    // Battery power: bars up when charging, down when discharging, in the mode's colour.
    for (const value of ticks(powerScale)) {
      root.appendChild(svg("line", { x1: left, x2: left + plotWidth, y1: powerY(value), y2: powerY(value), stroke: "var(--divider-color)", "stroke-width": value === 0 ? 1.2 : 0.4 }));
    }
    root.appendChild(svg("text", { x: left - 4, y: powerY(powerScale.max) + 4, "text-anchor": "end" }, `${powerScale.max}`));
    root.appendChild(svg("text", { x: left - 4, y: powerY(powerScale.min) + 4, "text-anchor": "end" }, `${powerScale.min}`));
    root.appendChild(svg("text", { x: 0, y: powerTop + 8 }, "kW"));
    slots.forEach((slot, i) => {
      const kw = slot.power || 0;
      if (Math.abs(kw) < 0.005) return;
      const x0 = x(slot.startMs);
      const barWidth = Math.max(x(slotEnd(i)) - x0 - 0.6, 0.5);
      root.appendChild(svg("rect", {
        x: x0, y: Math.min(powerY(kw), powerY(0)), width: barWidth, height: Math.abs(powerY(kw) - powerY(0)),
        fill: modeColor(slot.mode), "fill-opacity": 0.85, class: `power mode-${slot.mode}`,
      }));
    });

    // Planned state of charge at the end of each slot, on its own 0-100 % axis at the right.
    // Each slot's soc is the level at its end.
    const socPath = slots.map((slot, i) => `${i ? "L" : "M"}${x(slotEnd(i)).toFixed(1)},${socY(slot.soc).toFixed(1)}`).join("");
    root.appendChild(svg("path", { d: socPath, fill: "none", stroke: "var(--primary-text-color)", "stroke-width": 1.6, class: "soc" }));
    for (const pct of [0, 50, 100]) {
      root.appendChild(svg("text", { x: left + plotWidth + 4, y: socY(pct) + 4 }, `${pct}%`));
    }

    // Time axis: a label every few hours, depending on the width available.
    const hourFormat = this._timeFormat({ hour: "2-digit", minute: "2-digit" });
    const spanHours = (endMs - startMs) / 3600000;
    const everyHours = [1, 2, 3, 4, 6, 12, 24].find((h) => (spanHours / h) * 46 <= plotWidth) || 24;
    const firstTick = Math.ceil(startMs / (everyHours * 3600000)) * everyHours * 3600000;
    for (let ms = firstTick; ms < endMs; ms += everyHours * 3600000) {
      root.appendChild(svg("line", { x1: x(ms), x2: x(ms), y1: priceTop, y2: powerTop + powerHeight, stroke: "var(--divider-color)", "stroke-width": 0.4 }));
      root.appendChild(svg("text", { x: x(ms), y: axisY, "text-anchor": "middle" }, hourFormat.format(new Date(ms))));
    }

    // The current slot: outlined, with a line at the present moment.
    const current = slots[currentIndex];
    root.appendChild(svg("rect", {
      x: x(current.startMs), y: priceTop, width: Math.max(x(slotEnd(currentIndex)) - x(current.startMs), 1.5), height: powerTop + powerHeight - priceTop,
      fill: "none", stroke: "var(--primary-text-color)", "stroke-width": 1, "stroke-dasharray": "2 2", class: "current-slot",
    }));
    const nowX = x(Math.min(Math.max(Date.now(), startMs), endMs));
    root.appendChild(svg("line", { x1: nowX, x2: nowX, y1: priceTop - 4, y2: powerTop + powerHeight + 2, stroke: "var(--error-color, #db4437)", "stroke-width": 1.5, class: "now" }));
    root.appendChild(svg("text", { x: nowX, y: CHART_HEIGHT_PX - 2, "text-anchor": "middle", fill: "var(--error-color, #db4437)" }, "now"));
    return root;
  }

  _table(stateObj, slots, currentIndex) {
    const table = html("table", { class: "slots" });
    const head = html("tr");
    for (const label of ["Time", "Mode", "Import p", "Export p", "Battery kW", "SoC %"]) head.appendChild(html("th", {}, label));
    table.appendChild(html("thead")).appendChild(head);
    const body = html("tbody");
    const timeFormat = this._timeFormat({ hour: "2-digit", minute: "2-digit" });
    const coming = slots.slice(currentIndex, currentIndex + this._config.table_slots);
    coming.forEach((slot, i) => {
      const row = html("tr", { class: i === 0 ? "now" : "" });
      const mode = html("td");
      const dot = html("span", { class: "dot" });
      dot.style.background = modeColor(slot.mode);
      mode.append(dot, this._formatMode(stateObj, slot.mode));
      const power = slot.power || 0;
      row.append(
        html("td", {}, i === 0 ? "Now" : timeFormat.format(new Date(slot.startMs))),
        mode,
        html("td", {}, Number(slot.import_price).toFixed(1)),
        html("td", {}, Number(slot.export_price).toFixed(1)),
        html("td", {}, `${power > 0 ? "+" : ""}${power.toFixed(2)}`),
        html("td", {}, Number(slot.soc).toFixed(0)),
      );
      body.appendChild(row);
    });
    table.appendChild(body);
    return table;
  }
}

if (!customElements.get(CARD_TYPE)) {
  customElements.define(CARD_TYPE, BatteryOptimizerPlanCard);
  window.customCards = window.customCards || [];
  window.customCards.push({
    type: CARD_TYPE,
    name: "Battery Optimizer plan",
    description: "Prices, planned state of charge and battery power, coloured by mode, with the reason and the coming half-hours.",
    preview: false,
    documentationURL: "https://github.com/battery-optimizer/battery_optimizer#plan-card",
  });
}
