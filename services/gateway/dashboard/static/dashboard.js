// MGN dashboard: asks the gateway's GraphQL API for every research view and draws inline SVG
// charts and tables. Plain JavaScript, no build step, nothing from another origin. Its texts
// come from the page (the server's gettext catalogue, as the JSON block #texts); its filters
// from the address (?from=&to=&region=&group=, which the page's form writes).
"use strict";

const WENGER = [
  "PROBLEM_SOLVING",
  "REQUESTS_FOR_INFORMATION",
  "SEEKING_EXPERIENCE",
  "REUSING_ASSETS",
  "COORDINATION_AND_STRATEGY",
  "BUILDING_AN_ARGUMENT",
  "GROWING_CONFIDENCE",
  "DISCUSSING_DEVELOPMENTS",
  "DOCUMENTATION_PROJECTS",
  "VISITS",
  "MAPPING_KNOWLEDGE_AND_IDENTIFYING_GAPS",
];
const STATUSES = ["ACTIVE", "PAUSED", "COMPLETED", "ABANDONED"];

const TEXTS = (() => {
  const block = document.getElementById("texts");
  try {
    return JSON.parse(block ? block.textContent : "{}");
  } catch {
    return {};
  }
})();
const LANG = document.documentElement.lang || "en";
const SVG_NS = "http://www.w3.org/2000/svg";
const PAGE = 100; // rows of the per-group and per-region views shown (the first page)

function t(key, vars = {}) {
  const text = TEXTS[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

function num(n, digits) {
  if (n == null) return "–";
  const options = digits == null ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return new Intl.NumberFormat(t("locale"), options).format(n);
}

function pct(rate) {
  return rate == null ? "–" : new Intl.NumberFormat(t("locale"), { style: "percent", maximumFractionDigits: 1 }).format(rate);
}

function when(iso) {
  if (!iso) return "–";
  return new Intl.DateTimeFormat(t("locale"), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

function ago(iso) {
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
  const units = [
    ["year", 31536000],
    ["month", 2592000],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  const rtf = new Intl.RelativeTimeFormat(t("locale"), { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(Math.round(seconds), "second");
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children) node.append(child);
  return node;
}

// -- filters --------------------------------------------------------------------------------

// The address's filters; a day that is not YYYY-MM-DD is dropped here (the server names it).
const FILTER = (() => {
  const params = new URLSearchParams(window.location.search);
  const day = (name) => (/^\d{4}-\d{2}-\d{2}$/.test(params.get(name) ?? "") ? params.get(name) : null);
  const value = (name) => (params.get(name) ?? "").trim() || null;
  const from = day("from");
  const to = day("to");
  const reversed = from && to && from > to;
  return { from: reversed ? null : from, to: reversed ? null : to, region: value("region"), group: value("group") };
})();

function scopeVars() {
  return { region: FILTER.region, group: FILTER.group, from: FILTER.from, to: FILTER.to };
}

const ARGS = "region: $region, groupId: $group, from: $from, to: $to";
const PARAMS = "$region: String, $group: ID, $from: Date, $to: Date";

// -- the API --------------------------------------------------------------------------------

// An access token (where the gateway requires one): from the form, or from the page's
// "#token=..." fragment (never sent to the server in the URL); kept for this tab only.
const TOKEN_KEY = "mgn.token";

function takeTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
  history.replaceState(null, "", location.pathname + location.search);
}

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function gql(query, variables = {}) {
  const response = await fetch(new URL("graphql", document.baseURI), {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "Accept-Language": LANG, // refusals in the page's language
      ...authHeaders(),
    },
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`HTTP ${response.status}`);
  }
  if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return body.data;
}

// -- panels ---------------------------------------------------------------------------------

function panel(id) {
  const section = document.getElementById(id);
  const status = section.querySelector(".status");
  const content = section.querySelector(".content");
  return {
    section,
    loading() {
      section.setAttribute("aria-busy", "true");
      section.dataset.state = "loading";
      status.className = "status";
      status.textContent = t("loading");
      content.replaceChildren();
    },
    show(...nodes) {
      section.removeAttribute("aria-busy");
      section.dataset.state = "ready";
      status.className = "status";
      status.textContent = "";
      content.replaceChildren(...nodes);
    },
    empty() {
      section.removeAttribute("aria-busy");
      section.dataset.state = "empty";
      status.className = "status nodata";
      status.textContent = t("noData");
      content.replaceChildren();
    },
    fail(error) {
      section.removeAttribute("aria-busy");
      section.dataset.state = "error";
      status.className = "status error";
      status.textContent = t("error", { msg: error.message || String(error) });
      content.replaceChildren();
    },
  };
}

// A table of rows (the first cell of each a row header); `id` names it for the tests and
// its cells carry data-col (the column's key) so a figure can be found by what it is.
function table(id, caption, columns, rows, { hiddenCaption = false } = {}) {
  const head = el(
    "tr",
    {},
    ...columns.map(([, label], i) => el("th", { scope: "col", class: i ? "num" : "" }, label)),
  );
  const body = rows.map((cells) =>
    el(
      "tr",
      {},
      ...cells.map((c, i) => {
        const attrs = { "data-col": columns[i][0] };
        return i ? el("td", { ...attrs, class: "num" }, c) : el("th", { ...attrs, scope: "row" }, c);
      }),
    ),
  );
  const tableNode = el(
    "table",
    { id },
    el("caption", hiddenCaption ? { class: "visually-hidden" } : {}, caption),
    el("thead", {}, head),
    el("tbody", {}, ...body),
  );
  // wide tables scroll within a focusable, named region (keyboard users can scroll it)
  return el("div", { class: "scroll", role: "region", tabindex: "0", "aria-label": caption }, tableNode);
}

function asDetails(node) {
  return el("details", {}, el("summary", {}, t("showData")), node);
}

function pageNote(connection) {
  if (connection.totalCount <= connection.edges.length) return [];
  return [el("p", { class: "status" }, t("pageNote", { shown: num(connection.edges.length), total: num(connection.totalCount) }))];
}

const GROUP_NAMES = new Map(); // id -> name, of the groups the filter lists

function groupName(id) {
  return GROUP_NAMES.get(id) ?? id;
}

// -- charts ---------------------------------------------------------------------------------

function barChart({ items, label, width = 900, height = 260, yearTicks = false, keyLabels = false, labelOf, max: top }) {
  const pad = { top: 12, right: 12, bottom: yearTicks || keyLabels ? 28 : 12, left: 44 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const max = top ?? Math.max(1, ...items.map((d) => d.count));
  const step = w / items.length;
  const gap = Math.min(4, step * 0.2);
  const chart = svg("svg", {
    class: "chart",
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": label,
    tabindex: "0",
  });
  chart.append(svg("title", {}, label));
  const ticks = max <= 5 ? max : 4;
  for (let i = 0; i <= ticks; i++) {
    const value = Math.round((max * i) / ticks);
    const y = pad.top + h - (h * value) / max;
    chart.append(svg("line", { class: "grid", x1: pad.left, x2: pad.left + w, y1: y, y2: y }));
    chart.append(svg("text", { x: pad.left - 6, y: y + 4, "text-anchor": "end" }, num(value)));
  }
  const bars = svg("g", { class: "bars" });
  items.forEach((d, i) => {
    const bh = (h * d.count) / max;
    const x = pad.left + i * step + gap / 2;
    const name = labelOf ? labelOf(d) : d.key;
    bars.append(
      svg(
        "rect",
        {
          class: "bar",
          x: x.toFixed(2),
          y: (pad.top + h - bh).toFixed(2),
          width: Math.max(1, step - gap).toFixed(2),
          height: bh.toFixed(2),
          "data-key": d.key,
          "data-count": d.count,
        },
        svg("title", {}, `${name}: ${num(d.count)}`),
      ),
    );
    if (keyLabels && (items.length <= 16 || i % Math.ceil(items.length / 16) === 0)) {
      chart.append(svg("text", { x: x + (step - gap) / 2, y: pad.top + h + 18, "text-anchor": "middle" }, d.key));
    }
    if (yearTicks && d.key.endsWith("-01")) {
      chart.append(svg("line", { class: "axis", x1: x, x2: x, y1: pad.top + h, y2: pad.top + h + 5 }));
      const anchor = x + 30 > width ? "end" : "start";
      chart.append(svg("text", { x: x + 2, y: pad.top + h + 18, "text-anchor": anchor }, d.key.slice(0, 4)));
    }
  });
  chart.append(bars);
  chart.append(svg("line", { class: "axis", x1: pad.left, x2: pad.left + w, y1: pad.top + h, y2: pad.top + h }));
  return chart;
}

function hbarChart({ items, label, labelOf, width = 520 }) {
  // One row per item: its name on a line of its own, the bar under it (long names fit).
  const row = 36;
  const pad = { top: 6, right: 44, bottom: 6, left: 8 };
  const height = pad.top + pad.bottom + row * items.length;
  const w = width - pad.left - pad.right;
  const max = Math.max(1, ...items.map((d) => d.count));
  const chart = svg("svg", {
    class: "chart",
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": label,
    tabindex: "0",
  });
  chart.append(svg("title", {}, label));
  const bars = svg("g", { class: "bars" });
  items.forEach((d, i) => {
    const y = pad.top + i * row;
    const bw = (w * d.count) / max;
    const name = labelOf(d);
    chart.append(svg("text", { x: pad.left, y: y + 13 }, name));
    bars.append(
      svg(
        "rect",
        {
          class: "bar",
          x: pad.left,
          y: y + 18,
          width: bw.toFixed(2),
          height: 12,
          "data-key": d.key,
          "data-count": d.count,
        },
        svg("title", {}, `${name}: ${num(d.count)}`),
      ),
    );
    chart.append(svg("text", { x: pad.left + bw + 6, y: y + 28 }, num(d.count)));
  });
  chart.append(bars);
  chart.append(svg("line", { class: "axis", x1: pad.left, x2: pad.left, y1: pad.top + 16, y2: height - pad.bottom }));
  return chart;
}

function lineChart({ items, series, label, width = 560, height = 260, min = 1, max = 5 }) {
  const pad = { top: 12, right: 16, bottom: 40, left: 36 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const x = (i) => pad.left + (items.length === 1 ? w / 2 : (w * i) / (items.length - 1));
  const y = (v) => pad.top + h - (h * (v - min)) / (max - min);
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, tabindex: "0" });
  chart.append(svg("title", {}, label));
  for (let v = min; v <= max; v++) {
    chart.append(svg("line", { class: "grid", x1: pad.left, x2: pad.left + w, y1: y(v), y2: y(v) }));
    chart.append(svg("text", { x: pad.left - 6, y: y(v) + 4, "text-anchor": "end" }, num(v)));
  }
  const every = Math.max(1, Math.ceil(items.length / 8));
  items.forEach((d, i) => {
    if (i % every === 0 || i === items.length - 1) {
      const anchor = items.length === 1 ? "middle" : i === 0 ? "start" : i === items.length - 1 ? "end" : "middle";
      chart.append(svg("text", { x: x(i), y: pad.top + h + 18, "text-anchor": anchor }, d.key));
    }
  });
  series.forEach(({ field, name }, s) => {
    const points = items.map((d, i) => `${x(i).toFixed(1)},${y(d[field]).toFixed(1)}`).join(" ");
    chart.append(svg("polyline", { class: `series-${s}`, points }));
    items.forEach((d, i) => {
      chart.append(
        svg(
          "circle",
          { class: `dot-${s}`, cx: x(i).toFixed(1), cy: y(d[field]).toFixed(1), r: 3.5, "data-key": d.key },
          svg("title", {}, `${d.key} ${name}: ${d[field].toFixed(2)}`),
        ),
      );
    });
  });
  chart.append(svg("line", { class: "axis", x1: pad.left, x2: pad.left + w, y1: pad.top + h, y2: pad.top + h }));
  return chart;
}

// -- regions --------------------------------------------------------------------------------

const REGIONS = `query ($from: Date, $to: Date) { regionOverview(first: ${PAGE}, from: $from, to: $to) {
  totalCount edges { node { region displayName lastEventAt eventsApplied eventsBehind linkActive
  groups membersActive meetingsHeld attendanceRate activities initiatives responses } } } }`;

async function loadRegions(p) {
  const { regionOverview } = await gql(REGIONS, { from: FILTER.from, to: FILTER.to });
  const regions = regionOverview.edges.map((e) => e.node);
  if (!regions.length) return p.empty();
  const newest = regions.map((r) => r.lastEventAt).filter(Boolean).sort().at(-1);
  const columns = [
    ["region", t("region")],
    ["lastEvent", t("lastEvent")],
    ["link", t("link")],
    ["behind", t("behind")],
    ["applied", t("applied")],
    ["groups", t("groups")],
    ["members", t("members")],
    ["meetings", t("meetingsCol")],
    ["attendanceRate", t("attendanceRate")],
    ["activities", t("activitiesCol")],
    ["initiatives", t("initiativesCol")],
    ["responses", t("responses")],
  ];
  const rows = regions.map((r) => {
    const link = r.linkActive
      ? el("span", { class: "link-ok" }, `● ${t("linkActive")}`)
      : el("span", { class: "link-bad" }, `○ ${t("linkDown")}`);
    const last = r.lastEventAt
      ? el("time", { datetime: r.lastEventAt, title: when(r.lastEventAt) }, `${when(r.lastEventAt)} (${ago(r.lastEventAt)})`)
      : "–";
    return [r.displayName, last, link, r.eventsBehind == null ? "–" : num(r.eventsBehind), num(r.eventsApplied),
      num(r.groups), num(r.membersActive), num(r.meetingsHeld), pct(r.attendanceRate), num(r.activities),
      num(r.initiatives), num(r.responses)];
  });
  const summary = t("regionsSummary", { n: num(regionOverview.totalCount), shown: num(regions.length), newest: when(newest) });
  const wrapped = table("regions-table", t("regions"), columns, rows, { hiddenCaption: true });
  regions.forEach((r, i) => wrapped.querySelectorAll("tbody tr")[i].setAttribute("data-region", r.region));
  p.show(el("p", {}, summary), wrapped);
}

// -- meetings per month ---------------------------------------------------------------------

function nextMonth(key) {
  const [year, month] = key.split("-").map(Number);
  return month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, "0")}`;
}

// Months from the first to the last of `rows` (by `month`), the missing ones as `fill(key)`.
function everyMonth(rows, fill) {
  if (!rows.length) return [];
  const byMonth = new Map(rows.map((r) => [r.month, r]));
  const out = [];
  for (let key = rows[0].month; ; key = nextMonth(key)) {
    out.push(byMonth.get(key) ?? fill(key));
    if (key === rows.at(-1).month) return out;
  }
}

async function loadMeetings(p) {
  const { meetingsOverTime } = await gql(
    `query (${PARAMS}) { meetingsOverTime(${ARGS}) { month meetingsHeld meetingsCancelled groupsMeeting attendees expected attendanceRate } }`,
    scopeVars(),
  );
  const rows = everyMonth(meetingsOverTime, (month) => ({
    month, meetingsHeld: 0, meetingsCancelled: 0, groupsMeeting: 0, attendees: 0, expected: 0, attendanceRate: null,
  }));
  const total = rows.reduce((sum, r) => sum + r.meetingsHeld, 0);
  if (!rows.length || !(total + rows.reduce((s, r) => s + r.meetingsCancelled, 0))) return p.empty();
  const items = rows.map((r) => ({ key: r.month, count: r.meetingsHeld }));
  const busiest = items.reduce((a, b) => (b.count > a.count ? b : a));
  const label = t("meetingsChart", {
    n: num(items.length), from: items[0].key, to: items.at(-1).key, total: num(total), max: busiest.key, maxCount: num(busiest.count),
  });
  const chart = barChart({ items, label, yearTicks: true });
  chart.id = "meetings-chart";
  const data = table(
    "meetings-table",
    t("meetings"),
    [["month", t("month")], ["held", t("held")], ["cancelled", t("cancelled")], ["groupsMeeting", t("groupsMeeting")],
      ["attendees", t("attendees")], ["expected", t("expected")], ["attendanceRate", t("attendanceRate")]],
    rows.map((r) => [r.month, num(r.meetingsHeld), num(r.meetingsCancelled), num(r.groupsMeeting), num(r.attendees), num(r.expected), pct(r.attendanceRate)]),
    { hiddenCaption: true },
  );
  p.show(chart, asDetails(data));
}

// -- CoP activities -------------------------------------------------------------------------

async function loadActivities(p) {
  const { copActivityTable } = await gql(
    `query (${PARAMS}) { copActivityTable(${ARGS}) { activityType activities meetings groups example } }`,
    scopeVars(),
  );
  const byType = new Map(copActivityTable.map((c) => [c.activityType, c]));
  const cells = WENGER.map((type) => byType.get(type) ?? { activityType: type, activities: 0, meetings: 0, groups: 0, example: null });
  const items = cells.map((c) => ({ key: c.activityType, count: c.activities }));
  const total = items.reduce((sum, d) => sum + d.count, 0);
  if (!total) return p.empty();
  const top = items.reduce((a, b) => (b.count > a.count ? b : a));
  const label = t("activitiesChart", { total: num(total), top: t(top.key), topCount: num(top.count) });
  const chart = hbarChart({ items, label, labelOf: (d) => t(d.key) });
  chart.id = "activities-chart";
  const data = table(
    "activities-table",
    t("activities"),
    [["type", t("type")], ["activities", t("activitiesCol")], ["meetings", t("meetingsCol")], ["groups", t("groups")], ["example", t("example")]],
    cells.map((c) => [t(c.activityType), num(c.activities), num(c.meetings), num(c.groups), c.example ?? "–"]),
    { hiddenCaption: true },
  );
  p.show(chart, asDetails(data));
}

// -- feedback by meeting month --------------------------------------------------------------

async function loadFeedback(p) {
  const { feedbackTrend } = await gql(
    `query (${PARAMS}) { feedbackTrend(${ARGS}) { month surveys surveysWithheld invited responses responseRate meanOverall meanUsefulness recommendScore } }`,
    scopeVars(),
  );
  const counted = feedbackTrend.filter((m) => m.responses > 0 && m.meanOverall != null);
  if (!feedbackTrend.length) return p.empty();
  const nodes = [];
  if (counted.length) {
    const items = counted.map((m) => ({ key: m.month, overall: m.meanOverall, usefulness: m.meanUsefulness }));
    const series = [
      { field: "overall", name: t("overall") },
      { field: "usefulness", name: t("usefulness") },
    ];
    const label = t("feedbackChart", { n: num(items.length), from: items[0].key, to: items.at(-1).key, last: num(items.at(-1).overall, 2) });
    const chart = lineChart({ items, series, label });
    chart.id = "feedback-chart";
    const legend = el(
      "ul",
      { class: "legend" },
      ...series.map((s, i) => el("li", {}, el("span", { class: `key key-${i}`, "aria-hidden": "true" }), s.name)),
    );
    nodes.push(chart, legend);
  }
  const data = table(
    "feedback-table",
    t("feedback"),
    [["month", t("month")], ["surveys", t("surveys")], ["withheld", t("withheld")], ["responses", t("responses")],
      ["responseRate", t("responseRate")], ["overall", t("overall")], ["usefulness", t("usefulness")], ["recommendScore", t("recommendScore")]],
    feedbackTrend.map((m) => [m.month, num(m.surveys), num(m.surveysWithheld), num(m.responses), pct(m.responseRate),
      num(m.meanOverall, 2), num(m.meanUsefulness, 2), num(m.recommendScore, 1)]),
    { hiddenCaption: true },
  );
  p.show(...nodes, el("p", { class: "status" }, t("feedbackNote")), asDetails(data));
}

// -- retention per year ---------------------------------------------------------------------

async function loadRetention(p) {
  const { retention } = await gql(
    `query (${PARAMS}) { retention(${ARGS}) { year membersStart joined left retained membersEnd retentionRate } }`,
    scopeVars(),
  );
  if (!retention.some((y) => y.membersStart || y.joined || y.membersEnd)) return p.empty();
  const rated = retention.filter((y) => y.retentionRate != null);
  const nodes = [];
  if (rated.length) {
    const items = rated.map((y) => ({ key: String(y.year), count: Math.round(y.retentionRate * 1000) / 10 }));
    const chart = barChart({ items, label: t("retentionChart", { n: num(items.length), from: items[0].key, to: items.at(-1).key }), width: 560, height: 240, max: 100, keyLabels: true });
    chart.id = "retention-chart";
    nodes.push(chart);
  }
  const data = table(
    "retention-table",
    t("retention"),
    [["year", t("year")], ["membersStart", t("membersStart")], ["joined", t("joined")], ["left", t("left")],
      ["retained", t("retained")], ["membersEnd", t("membersEnd")], ["retentionRate", t("retentionRate")]],
    retention.map((y) => [String(y.year), num(y.membersStart), num(y.joined), num(y.left), num(y.retained), num(y.membersEnd), pct(y.retentionRate)]),
    { hiddenCaption: true },
  );
  p.show(...nodes, data);
}

// -- initiatives ----------------------------------------------------------------------------

async function loadInitiatives(p) {
  const { initiativeStatuses } = await gql(
    `query (${PARAMS}) { initiativeStatuses(${ARGS}) { status initiatives members joinings } }`,
    scopeVars(),
  );
  const byStatus = new Map(initiativeStatuses.map((s) => [s.status, s]));
  const rows = STATUSES.map((s) => byStatus.get(s) ?? { status: s, initiatives: 0, members: 0, joinings: 0 });
  const total = rows.reduce((sum, r) => sum + r.initiatives, 0);
  if (!total) return p.empty();
  const items = rows.map((r) => ({ key: r.status, count: r.initiatives }));
  const chart = hbarChart({ items, label: t("initiativesChart", { total: num(total) }), labelOf: (d) => t(d.key) });
  chart.id = "initiatives-chart";
  const data = table(
    "initiatives-table",
    t("initiatives"),
    [["status", t("status")], ["initiatives", t("initiativesCol")], ["members", t("members")], ["joinings", t("joinings")]],
    rows.map((r) => [t(r.status), num(r.initiatives), num(r.members), num(r.joinings)]),
    { hiddenCaption: true },
  );
  p.show(chart, data);
}

// -- per group: host rotation, health, months -----------------------------------------------

async function loadHosts(p) {
  const { hostRotation } = await gql(
    `query (${PARAMS}) { hostRotation(${ARGS}, first: ${PAGE}) { totalCount edges { node {
      groupId region members meetingsHosted distinctHosts hostShare repeatHostings meanDaysBetween minDaysBetween } } } }`,
    scopeVars(),
  );
  const nodes = hostRotation.edges.map((e) => e.node);
  if (!nodes.length) return p.empty();
  const data = table(
    "hosts-table",
    t("hosts"),
    [["group", t("group")], ["region", t("region")], ["members", t("members")], ["hosted", t("hosted")], ["distinctHosts", t("distinctHosts")],
      ["hostShare", t("hostShare")], ["repeatHostings", t("repeatHostings")], ["meanDays", t("meanDays")], ["minDays", t("minDays")]],
    nodes.map((g) => [groupName(g.groupId), g.region, num(g.members), num(g.meetingsHosted), num(g.distinctHosts), pct(g.hostShare),
      num(g.repeatHostings), num(g.meanDaysBetween, 1), num(g.minDaysBetween)]),
    { hiddenCaption: true },
  );
  p.show(...pageNote(hostRotation), data);
}

async function loadHealth(p) {
  const { groupHealth } = await gql(
    `query (${PARAMS}) { groupHealth(${ARGS}, first: ${PAGE}) { totalCount edges { node {
      groupId region membersActive membersEver membersLeft churnRate meetingsHeld lastMeetingAt attendanceRate
      longestStreak meanCurrentStreak hostedShare feedbackRecent feedbackPrevious feedbackTrend } } } }`,
    scopeVars(),
  );
  const nodes = groupHealth.edges.map((e) => e.node);
  if (!nodes.length) return p.empty();
  const data = table(
    "health-table",
    t("health"),
    [["group", t("group")], ["region", t("region")], ["active", t("active")], ["ever", t("ever")], ["left", t("left")], ["churn", t("churn")],
      ["held", t("held")], ["lastMeeting", t("lastMeeting")], ["attendanceRate", t("attendanceRate")], ["longestStreak", t("longestStreak")],
      ["meanStreak", t("meanStreak")], ["hostedShare", t("hostedShare")], ["feedbackRecent", t("feedbackRecent")],
      ["feedbackPrevious", t("feedbackPrevious")], ["feedbackTrend", t("feedbackTrend")]],
    nodes.map((g) => [groupName(g.groupId), g.region, num(g.membersActive), num(g.membersEver), num(g.membersLeft), pct(g.churnRate),
      num(g.meetingsHeld), when(g.lastMeetingAt), pct(g.attendanceRate), num(g.longestStreak), num(g.meanCurrentStreak, 1),
      pct(g.hostedShare), num(g.feedbackRecent, 2), num(g.feedbackPrevious, 2), num(g.feedbackTrend, 2)]),
    { hiddenCaption: true },
  );
  p.show(...pageNote(groupHealth), data);
}

async function loadGroupMonths(p) {
  const { groupMonths } = await gql(
    `query (${PARAMS}) { groupMonths(${ARGS}, first: ${PAGE}) { totalCount edges { node {
      groupId region month meetingsHeld meetingsCancelled attendees expected attendanceRate } } } }`,
    scopeVars(),
  );
  const nodes = groupMonths.edges.map((e) => e.node);
  if (!nodes.length) return p.empty();
  const data = table(
    "groupMonths-table",
    t("groupMonths"),
    [["group", t("group")], ["month", t("month")], ["region", t("region")], ["held", t("held")], ["cancelled", t("cancelled")],
      ["attendees", t("attendees")], ["expected", t("expected")], ["attendanceRate", t("attendanceRate")]],
    nodes.map((g) => [groupName(g.groupId), g.month, g.region, num(g.meetingsHeld), num(g.meetingsCancelled), num(g.attendees), num(g.expected), pct(g.attendanceRate)]),
    { hiddenCaption: true },
  );
  p.show(...pageNote(groupMonths), asDetails(data));
}

// -- coding agreement -----------------------------------------------------------------------

async function loadAgreement(p) {
  const { codingAgreement } = await gql(
    `query (${PARAMS}) { codingAgreement(${ARGS}, first: ${PAGE}) { totalCount edges { node {
      coderA coderB meetings kappa perType { activityType both aOnly bOnly neither kappa } } } } }`,
    scopeVars(),
  );
  const pairs = codingAgreement.edges.map((e) => e.node);
  if (!pairs.length) return p.empty();
  const data = table(
    "agreement-table",
    t("agreement"),
    [["coderA", t("coderA")], ["coderB", t("coderB")], ["meetings", t("meetingsCol")], ["kappa", t("kappa")]],
    pairs.map((a) => [a.coderA, a.coderB, num(a.meetings), num(a.kappa, 2)]),
    { hiddenCaption: true },
  );
  const perType = table(
    "agreement-types",
    t("perType"),
    [["pair", `${t("coderA")} / ${t("coderB")}`], ["type", t("type")], ["both", t("both")], ["aOnly", t("aOnly")], ["bOnly", t("bOnly")],
      ["neither", t("neither")], ["kappa", t("kappa")]],
    pairs.flatMap((a) =>
      a.perType.map((x) => [`${a.coderA} / ${a.coderB}`, t(x.activityType), num(x.both), num(x.aOnly), num(x.bOnly), num(x.neither), num(x.kappa, 2)]),
    ),
  );
  p.show(...pageNote(codingAgreement), data, asDetails(perType));
}

// -- the longitudinal panel -----------------------------------------------------------------

function intentionRows(cells) {
  return cells.map((c) => [String(c.period), num(c.interviews), num(c.persons), num(c.members), num(c.yes), num(c.no), num(c.unsure),
    num(c.plannedHiresMean, 2), c.barriers.filter((b) => b.count).map((b) => `${b.barrier} ${num(b.count)}`).join(", ") || "–"]);
}

async function loadIntentions(p) {
  const fields = "period interviews persons members yes no unsure plannedHiresMean barriers { barrier count }";
  const data = await gql(
    `query (${PARAMS}) { byYear: growthIntentions(by: YEAR, ${ARGS}) { ${fields} } byCohort: growthIntentions(by: JOIN_COHORT, ${ARGS}) { ${fields} } }`,
    scopeVars(),
  );
  if (!data.byYear.length && !data.byCohort.length) return p.empty();
  const columns = [["period", t("year")], ["interviews", t("interviews")], ["persons", t("persons")], ["members", t("members")],
    ["yes", t("yes")], ["no", t("no")], ["unsure", t("unsure")], ["hires", t("hires")], ["barriers", t("barriers")]];
  const nodes = [];
  if (data.byYear.length) {
    const items = data.byYear.map((c) => ({ key: String(c.period), count: c.yes }));
    const total = items.reduce((s, d) => s + d.count, 0);
    const chart = barChart({ items, label: t("intentionsChart", { n: num(items.length), total: num(total) }), height: 200, keyLabels: true });
    chart.id = "intentions-chart";
    nodes.push(chart);
  }
  nodes.push(table("intentions-year", t("byYear"), columns, intentionRows(data.byYear)));
  const cohortColumns = [["period", t("cohort")], ...columns.slice(1)];
  nodes.push(table("intentions-cohort", t("byCohort"), cohortColumns, intentionRows(data.byCohort)));
  p.show(...nodes);
}

async function loadCohorts(p) {
  const { retentionByCohort } = await gql(
    `query (${PARAMS}) { retentionByCohort(${ARGS}) { cohort joined survival { years atRisk retained rate } } }`,
    scopeVars(),
  );
  if (!retentionByCohort.length) return p.empty();
  const longest = Math.max(0, ...retentionByCohort.map((c) => c.survival.length));
  const years = Array.from({ length: longest }, (_, i) => i + 1);
  const columns = [["cohort", t("cohort")], ["joined", t("joined")], ...years.map((n) => [`year${n}`, t("afterYears", { n: num(n) })])];
  const rows = retentionByCohort.map((c) => {
    const byYears = new Map(c.survival.map((s) => [s.years, s]));
    return [String(c.cohort), num(c.joined), ...years.map((n) => {
      const s = byYears.get(n);
      return s ? `${pct(s.rate)} (${num(s.retained)}/${num(s.atRisk)})` : "–";
    })];
  });
  p.show(table("cohorts-table", t("cohorts"), columns, rows, { hiddenCaption: true }));
}

async function loadFirmSize(p) {
  const { firmSizeByYear } = await gql(
    `query (${PARAMS}) { firmSizeByYear(${ARGS}) { year firms employeesMean employeesMedian turnoverMeanEur } }`,
    scopeVars(),
  );
  if (!firmSizeByYear.some((y) => y.firms)) return p.empty();
  const items = firmSizeByYear.map((y) => ({ key: String(y.year), count: y.firms }));
  const chart = barChart({
    items, label: t("firmSizeChart", { n: num(items.length), from: items[0].key, to: items.at(-1).key }), width: 560, height: 240, keyLabels: true,
  });
  chart.id = "firmSize-chart";
  const data = table(
    "firmSize-table",
    t("firmSize"),
    [["year", t("year")], ["firms", t("firms")], ["employeesMean", t("employeesMean")], ["employeesMedian", t("employeesMedian")], ["turnoverMean", t("turnoverMean")]],
    firmSizeByYear.map((y) => [String(y.year), num(y.firms), num(y.employeesMean, 1), num(y.employeesMedian, 1), num(y.turnoverMeanEur, 0)]),
    { hiddenCaption: true },
  );
  p.show(chart, data);
}

// -- the caller and the filter form ---------------------------------------------------------

const ROLE_TEXT = { researcher: "roleResearcher", agency: "roleAgency", public: "rolePublic" };
const SEES_TEXT = { researcher: "seesAll", agency: "seesOwn", public: "seesNational" };

async function loadViewer() {
  const line = document.getElementById("viewer");
  try {
    const { viewer } = await gql("{ viewer { role region tokenId } }");
    const role = t(ROLE_TEXT[viewer.role] ?? viewer.role);
    const sees = t(SEES_TEXT[viewer.role] ?? "seesNational");
    line.textContent = viewer.region ? t("viewerRegion", { role, region: viewer.region, sees }) : t("viewer", { role, sees });
    line.dataset.role = viewer.role;
    line.dataset.region = viewer.region ?? "";
    return viewer;
  } catch (error) {
    line.textContent = t("error", { msg: error.message || String(error) });
    line.dataset.role = "";
    return null;
  }
}

function fillSelect(select, allLabel, choices, chosen) {
  const options = [el("option", { value: "" }, allLabel)];
  const known = new Set(choices.map(([value]) => value));
  if (chosen && !known.has(chosen)) choices = [...choices, [chosen, chosen]];
  for (const [value, label] of choices) {
    const option = el("option", { value }, label);
    if (value === chosen) option.selected = true;
    options.push(option);
  }
  select.replaceChildren(...options);
}

async function loadFilterChoices(viewer) {
  const regionSelect = document.getElementById("region");
  const groupSelect = document.getElementById("group");
  try {
    const { regions } = await gql("{ regions { id displayName } }");
    fillSelect(regionSelect, t("allRegions"), regions.map((r) => [r.id, r.displayName || r.id]), FILTER.region);
  } catch {
    // the region list is left as the server wrote it; the panels say why the API refused
  }
  // groups are rows: listed for who sees the chosen region in full
  const region = regionSelect.value || null;
  const mayList = viewer && region && (viewer.role === "researcher" || (viewer.role === "agency" && viewer.region === region));
  groupSelect.disabled = !mayList;
  if (!mayList) {
    fillSelect(groupSelect, t("allGroups"), [], FILTER.group);
    return;
  }
  try {
    const { groups } = await gql("query ($region: String) { groups(region: $region, first: 500) { edges { node { id name } } } }", { region });
    const choices = groups.edges.map((e) => [e.node.id, e.node.name]);
    for (const [id, name] of choices) GROUP_NAMES.set(id, name);
    fillSelect(groupSelect, t("allGroups"), choices, FILTER.group);
  } catch {
    fillSelect(groupSelect, t("allGroups"), [], FILTER.group);
  }
}

function describeScope() {
  const regionSelect = document.getElementById("region");
  const regionName = FILTER.region ? regionSelect.selectedOptions[0]?.textContent || FILTER.region : null;
  const where = FILTER.group
    ? t("scopeGroup", { group: groupName(FILTER.group), region: regionName ?? "–" })
    : regionName
      ? t("scopeRegion", { region: regionName })
      : t("scopeNation");
  const period =
    FILTER.from && FILTER.to
      ? t("periodBetween", { from: FILTER.from, to: FILTER.to })
      : FILTER.from
        ? t("periodFrom", { from: FILTER.from })
        : FILTER.to
          ? t("periodTo", { to: FILTER.to })
          : t("periodAll");
  document.getElementById("scope").textContent = t("showing", { scope: where, period });
}

// -- page -----------------------------------------------------------------------------------

const PANELS = {
  regions: loadRegions,
  meetings: loadMeetings,
  activities: loadActivities,
  feedback: loadFeedback,
  retention: loadRetention,
  initiatives: loadInitiatives,
  hosts: loadHosts,
  health: loadHealth,
  groupMonths: loadGroupMonths,
  agreement: loadAgreement,
  intentions: loadIntentions,
  cohorts: loadCohorts,
  firmSize: loadFirmSize,
};

async function draw(id, load) {
  const p = panel(id);
  p.loading();
  try {
    await load(p);
  } catch (error) {
    p.fail(error);
  }
}

async function loadAll() {
  document.body.dataset.loaded = "false";
  const viewer = await loadViewer();
  await loadFilterChoices(viewer);
  describeScope();
  await Promise.allSettled(Object.entries(PANELS).map(([id, load]) => draw(id, load)));
  document.body.dataset.loaded = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  takeTokenFromFragment();
  document.body.classList.add("js");
  document.getElementById("refresh").addEventListener("click", loadAll);
  document.getElementById("region").addEventListener("change", () => {
    // another region has other groups: they are listed once the form is sent
    const group = document.getElementById("group");
    fillSelect(group, t("allGroups"), [], null);
    group.disabled = true;
  });
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("token");
    if (input.value.trim()) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    else sessionStorage.removeItem(TOKEN_KEY);
    input.value = "";
    loadAll();
  });
  loadAll();
});
