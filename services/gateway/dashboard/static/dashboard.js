// MGN dashboard: asks the gateway's GraphQL API and draws inline SVG charts.
// Plain JavaScript, no build step, nothing from another origin.
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

const I18N = {
  en: {
    locale: "en-GB",
    title: "MGN national dashboard",
    intro: "The MicroENTRE Growth Network's national read model at a glance.",
    language: "Language",
    refresh: "Refresh",
    token: "Access token",
    useToken: "Use token",
    graphql: "GraphQL API",
    footer: "Data: the gateway's national GraphQL API.",
    regions: "Regions",
    meetings: "Meetings per month",
    activities: "CoP activities by Wenger type",
    feedback: "Feedback trends",
    loading: "Loading…",
    noData: "No data yet.",
    error: "Could not load: {msg}",
    region: "Region",
    lastEvent: "Last event",
    link: "Link",
    linkActive: "active",
    linkDown: "offline",
    behind: "Events behind",
    applied: "Events applied",
    groups: "Groups",
    members: "Members",
    meetingsCol: "Meetings",
    regionsSummary: "{n} regions ({shown} shown); newest event {newest}.",
    month: "Month",
    count: "Count",
    type: "Type",
    showData: "Show the data as a table",
    meetingsChart:
      "Bar chart of meetings per month: {n} months from {from} to {to}, {total} meetings in all; the busiest month {max} with {maxCount}.",
    activitiesChart: "Bar chart of {total} CoP activities by Wenger type; most often {top} ({topCount}).",
    feedbackChart:
      "Line chart of mean feedback scores (1–5) per month: {n} months from {from} to {to}; latest overall {last}.",
    overall: "Overall score",
    usefulness: "Usefulness",
    responses: "Responses",
    feedbackNote: "Means of surveys closed with at least 3 responses, weighted by responses, by closing month.",
    PROBLEM_SOLVING: "Problem-solving",
    REQUESTS_FOR_INFORMATION: "Requests for information",
    SEEKING_EXPERIENCE: "Seeking experience",
    REUSING_ASSETS: "Reusing assets",
    COORDINATION_AND_STRATEGY: "Coordination and strategy",
    BUILDING_AN_ARGUMENT: "Building an argument",
    GROWING_CONFIDENCE: "Growing confidence",
    DISCUSSING_DEVELOPMENTS: "Discussing developments",
    DOCUMENTATION_PROJECTS: "Documentation projects",
    VISITS: "Visits",
    MAPPING_KNOWLEDGE_AND_IDENTIFYING_GAPS: "Mapping knowledge and identifying gaps",
  },
  fi: {
    locale: "fi-FI",
    title: "MGN:n kansallinen koontinäkymä",
    intro: "MicroENTRE Growth Networkin kansallinen tietomalli yhdellä silmäyksellä.",
    language: "Kieli",
    refresh: "Päivitä",
    token: "Käyttöoikeustunnus",
    useToken: "Käytä tunnusta",
    graphql: "GraphQL-rajapinta",
    footer: "Tiedot: yhdyskäytävän kansallinen GraphQL-rajapinta.",
    regions: "Alueet",
    meetings: "Tapaamiset kuukausittain",
    activities: "CoP-toiminnot Wengerin tyypeittäin",
    feedback: "Palautteen kehitys",
    loading: "Ladataan…",
    noData: "Ei vielä tietoja.",
    error: "Lataus epäonnistui: {msg}",
    region: "Alue",
    lastEvent: "Viimeisin tapahtuma",
    link: "Yhteys",
    linkActive: "toimii",
    linkDown: "ei yhteyttä",
    behind: "Tapahtumia jäljessä",
    applied: "Tapahtumia käsitelty",
    groups: "Ryhmät",
    members: "Jäsenet",
    meetingsCol: "Tapaamiset",
    regionsSummary: "{n} aluetta ({shown} näkyvissä); uusin tapahtuma {newest}.",
    month: "Kuukausi",
    count: "Määrä",
    type: "Tyyppi",
    showData: "Näytä tiedot taulukkona",
    meetingsChart:
      "Pylväskaavio tapaamisista kuukausittain: {n} kuukautta ({from}–{to}), yhteensä {total} tapaamista; eniten {max}: {maxCount}.",
    activitiesChart: "Pylväskaavio {total} CoP-toiminnosta Wengerin tyypeittäin; yleisin {top} ({topCount}).",
    feedbackChart:
      "Viivakaavio palautteen keskiarvoista (1–5) kuukausittain: {n} kuukautta ({from}–{to}); viimeisin kokonaisarvio {last}.",
    overall: "Kokonaisarvio",
    usefulness: "Hyödyllisyys",
    responses: "Vastauksia",
    feedbackNote:
      "Vähintään 3 vastauksella suljettujen kyselyjen keskiarvot vastausmäärillä painotettuina, sulkemiskuukauden mukaan.",
    PROBLEM_SOLVING: "Ongelmanratkaisu",
    REQUESTS_FOR_INFORMATION: "Tiedon pyytäminen",
    SEEKING_EXPERIENCE: "Kokemusten hakeminen",
    REUSING_ASSETS: "Resurssien uudelleenkäyttö",
    COORDINATION_AND_STRATEGY: "Koordinointi ja strategia",
    BUILDING_AN_ARGUMENT: "Perustelujen rakentaminen",
    GROWING_CONFIDENCE: "Itseluottamuksen kasvattaminen",
    DISCUSSING_DEVELOPMENTS: "Kehityksestä keskusteleminen",
    DOCUMENTATION_PROJECTS: "Dokumentointihankkeet",
    VISITS: "Vierailut",
    MAPPING_KNOWLEDGE_AND_IDENTIFYING_GAPS: "Tiedon kartoitus ja puutteiden tunnistaminen",
  },
  sv: {
    locale: "sv-SE",
    title: "MGN:s nationella översikt",
    intro: "MicroENTRE Growth Networks nationella läsmodell i korthet.",
    language: "Språk",
    refresh: "Uppdatera",
    token: "Åtkomsttoken",
    useToken: "Använd token",
    graphql: "GraphQL-gränssnitt",
    footer: "Data: gatewayens nationella GraphQL-gränssnitt.",
    regions: "Regioner",
    meetings: "Möten per månad",
    activities: "CoP-aktiviteter efter Wengers typ",
    feedback: "Utveckling av återkopplingen",
    loading: "Laddar…",
    noData: "Inga uppgifter ännu.",
    error: "Kunde inte laddas: {msg}",
    region: "Region",
    lastEvent: "Senaste händelse",
    link: "Förbindelse",
    linkActive: "aktiv",
    linkDown: "frånkopplad",
    behind: "Händelser efter",
    applied: "Händelser tillämpade",
    groups: "Grupper",
    members: "Medlemmar",
    meetingsCol: "Möten",
    regionsSummary: "{n} regioner ({shown} visas); senaste händelse {newest}.",
    month: "Månad",
    count: "Antal",
    type: "Typ",
    showData: "Visa uppgifterna som tabell",
    meetingsChart:
      "Stapeldiagram över möten per månad: {n} månader ({from}–{to}), totalt {total} möten; flest {max}: {maxCount}.",
    activitiesChart: "Stapeldiagram över {total} CoP-aktiviteter efter Wengers typ; vanligast {top} ({topCount}).",
    feedbackChart:
      "Linjediagram över medelbetyg (1–5) per månad: {n} månader ({from}–{to}); senaste helhetsbetyg {last}.",
    overall: "Helhetsbetyg",
    usefulness: "Nytta",
    responses: "Svar",
    feedbackNote: "Medeltal för enkäter stängda med minst 3 svar, viktade med antalet svar, efter stängningsmånad.",
    PROBLEM_SOLVING: "Problemlösning",
    REQUESTS_FOR_INFORMATION: "Informationsförfrågningar",
    SEEKING_EXPERIENCE: "Söka erfarenhet",
    REUSING_ASSETS: "Återanvända tillgångar",
    COORDINATION_AND_STRATEGY: "Samordning och strategi",
    BUILDING_AN_ARGUMENT: "Bygga en argumentation",
    GROWING_CONFIDENCE: "Växande självförtroende",
    DISCUSSING_DEVELOPMENTS: "Diskutera utveckling",
    DOCUMENTATION_PROJECTS: "Dokumentationsprojekt",
    VISITS: "Besök",
    MAPPING_KNOWLEDGE_AND_IDENTIFYING_GAPS: "Kartlägga kunskap och identifiera luckor",
  },
};

const LANG = (() => {
  const asked = new URLSearchParams(window.location.search).get("lang");
  return asked && Object.hasOwn(I18N, asked) ? asked : "en";
})();
const SVG_NS = "http://www.w3.org/2000/svg";
const REGIONS_PER_PAGE = 100; // the regions list shows the first page (regionOverview)

function t(key, vars = {}) {
  const text = I18N[LANG][key] ?? I18N.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

function num(n) {
  return new Intl.NumberFormat(t("locale")).format(n);
}

function when(iso) {
  if (!iso) return "–";
  return new Intl.DateTimeFormat(t("locale"), { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(iso),
  );
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
    headers: { "Content-Type": "application/json", Accept: "application/json", ...authHeaders() },
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

function dataTable(caption, headers, rows) {
  const head = el("tr", {}, ...headers.map((h, i) => el("th", { scope: "col", class: i ? "num" : "" }, h)));
  const body = rows.map((cells) =>
    el("tr", {}, ...cells.map((c, i) => (i ? el("td", { class: "num" }, c) : el("th", { scope: "row" }, c)))),
  );
  return el(
    "details",
    {},
    el("summary", {}, t("showData")),
    el("table", {}, el("caption", { class: "visually-hidden" }, caption), el("thead", {}, head), el("tbody", {}, ...body)),
  );
}

// -- regions --------------------------------------------------------------------------------

const REGIONS = `{ regionOverview(first: ${REGIONS_PER_PAGE}) { totalCount
  edges { node { region displayName lastEventAt eventsApplied eventsBehind linkActive
  groups membersActive meetingsHeld } } } }`;

async function loadRegions() {
  const p = panel("regions");
  p.loading();
  try {
    const { regionOverview } = await gql(REGIONS);
    const regions = regionOverview.edges.map((e) => e.node);
    if (!regions.length) return p.empty();
    const newest = regions.map((r) => r.lastEventAt).sort().at(-1);
    const head = el(
      "tr",
      {},
      el("th", { scope: "col" }, t("region")),
      el("th", { scope: "col" }, t("lastEvent")),
      el("th", { scope: "col" }, t("link")),
      el("th", { scope: "col", class: "num" }, t("behind")),
      el("th", { scope: "col", class: "num" }, t("applied")),
      el("th", { scope: "col", class: "num" }, t("groups")),
      el("th", { scope: "col", class: "num" }, t("members")),
      el("th", { scope: "col", class: "num" }, t("meetingsCol")),
    );
    const rows = regions.map((r) => {
      const link = r.linkActive
        ? el("span", { class: "link-ok" }, `● ${t("linkActive")}`)
        : el("span", { class: "link-bad" }, `○ ${t("linkDown")}`);
      const last = el("time", { datetime: r.lastEventAt, title: when(r.lastEventAt) }, `${when(r.lastEventAt)} (${ago(r.lastEventAt)})`);
      return el(
        "tr",
        { "data-region": r.region },
        el("th", { scope: "row" }, r.displayName),
        el("td", {}, last),
        el("td", {}, link),
        el("td", { class: "num" }, r.eventsBehind == null ? "–" : num(r.eventsBehind)),
        el("td", { class: "num" }, num(r.eventsApplied)),
        el("td", { class: "num" }, num(r.groups)),
        el("td", { class: "num" }, num(r.membersActive)),
        el("td", { class: "num" }, num(r.meetingsHeld)),
      );
    });
    const summary = t("regionsSummary", {
      n: num(regionOverview.totalCount),
      shown: num(regions.length),
      newest: when(newest),
    });
    p.show(el("p", {}, summary), el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)));
  } catch (error) {
    p.fail(error);
  }
}

// -- meetings per month ---------------------------------------------------------------------

function nextMonth(key) {
  const [year, month] = key.split("-").map(Number);
  return month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, "0")}`;
}

async function meetingsPerMonth() {
  // One query: the meetingsOverTime view; months without meetings are filled with 0.
  const { meetingsOverTime } = await gql("{ meetingsOverTime { month meetingsHeld } }");
  const held = meetingsOverTime.filter((m) => m.meetingsHeld > 0);
  if (!held.length) return [];
  const counts = new Map(held.map((m) => [m.month, m.meetingsHeld]));
  const months = [];
  for (let key = held[0].month; ; key = nextMonth(key)) {
    months.push({ key, count: counts.get(key) ?? 0 });
    if (key === held.at(-1).month) return months;
  }
}

function barChart({ items, label, width = 900, height = 260, yearTicks = false, labelOf }) {
  const pad = { top: 12, right: 12, bottom: yearTicks ? 28 : 12, left: 44 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const max = Math.max(1, ...items.map((d) => d.count));
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

async function loadMeetings() {
  const p = panel("meetings");
  p.loading();
  try {
    const months = await meetingsPerMonth();
    if (!months.length) return p.empty();
    const total = months.reduce((sum, d) => sum + d.count, 0);
    const busiest = months.reduce((a, b) => (b.count > a.count ? b : a));
    const label = t("meetingsChart", {
      n: num(months.length),
      from: months[0].key,
      to: months.at(-1).key,
      total: num(total),
      max: busiest.key,
      maxCount: num(busiest.count),
    });
    const chart = barChart({ items: months, label, yearTicks: true });
    chart.id = "meetings-chart";
    const table = dataTable(t("meetings"), [t("month"), t("count")], months.map((d) => [d.key, num(d.count)]));
    p.show(chart, table);
  } catch (error) {
    p.fail(error);
  }
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

// -- CoP activities -------------------------------------------------------------------------

async function loadActivities() {
  const p = panel("activities");
  p.loading();
  try {
    const { copActivityTable } = await gql("{ copActivityTable { activityType activities } }");
    const perType = new Map();
    for (const cell of copActivityTable) {
      perType.set(cell.activityType, (perType.get(cell.activityType) ?? 0) + cell.activities);
    }
    const items = WENGER.map((type) => ({ key: type, count: perType.get(type) ?? 0 }));
    const total = items.reduce((sum, d) => sum + d.count, 0);
    if (!total) return p.empty();
    const top = items.reduce((a, b) => (b.count > a.count ? b : a));
    const label = t("activitiesChart", { total: num(total), top: t(top.key), topCount: num(top.count) });
    const chart = hbarChart({ items, label, labelOf: (d) => t(d.key) });
    chart.id = "activities-chart";
    const table = dataTable(t("activities"), [t("type"), t("count")], items.map((d) => [t(d.key), num(d.count)]));
    p.show(chart, table);
  } catch (error) {
    // The activities field may not exist on an older gateway: say so as "no data".
    if (/Cannot query field/.test(error.message)) return p.empty();
    p.fail(error);
  }
}

// -- feedback trends ------------------------------------------------------------------------

const FEEDBACK = "{ feedbackTrend { month responses meanOverall meanUsefulness } }";

async function feedbackPerMonth() {
  // One query: the k-anonymous feedbackTrend view (surveys closed with 3+ responses).
  const { feedbackTrend } = await gql(FEEDBACK);
  return feedbackTrend
    .filter((m) => m.responses > 0 && m.meanOverall != null)
    .map((m) => ({ key: m.month, responses: m.responses, overall: m.meanOverall, usefulness: m.meanUsefulness }));
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

async function loadFeedback() {
  const p = panel("feedback");
  p.loading();
  try {
    const items = await feedbackPerMonth();
    if (!items.length) return p.empty();
    const series = [
      { field: "overall", name: t("overall") },
      { field: "usefulness", name: t("usefulness") },
    ];
    const label = t("feedbackChart", {
      n: num(items.length),
      from: items[0].key,
      to: items.at(-1).key,
      last: items.at(-1).overall.toFixed(2),
    });
    const chart = lineChart({ items, series, label });
    chart.id = "feedback-chart";
    const legend = el(
      "ul",
      { class: "legend" },
      ...series.map((s, i) => el("li", {}, el("span", { class: `key key-${i}`, "aria-hidden": "true" }), s.name)),
    );
    const table = dataTable(
      t("feedback"),
      [t("month"), t("overall"), t("usefulness"), t("responses")],
      items.map((d) => [d.key, d.overall.toFixed(2), d.usefulness.toFixed(2), num(d.responses)]),
    );
    p.show(chart, legend, el("p", { class: "status" }, t("feedbackNote")), table);
  } catch (error) {
    if (/Cannot query field/.test(error.message)) return p.empty();
    p.fail(error);
  }
}

// -- page -----------------------------------------------------------------------------------

function translatePage() {
  document.documentElement.lang = LANG;
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const link of document.querySelectorAll("a[data-lang]")) {
    if (link.dataset.lang === LANG) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function loadAll() {
  document.body.dataset.loaded = "false";
  await Promise.allSettled([loadRegions(), loadMeetings(), loadActivities(), loadFeedback()]);
  document.body.dataset.loaded = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  takeTokenFromFragment();
  translatePage();
  document.getElementById("refresh").addEventListener("click", loadAll);
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
