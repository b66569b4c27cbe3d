// The Department's dashboard. Plain JS, no third-party code.
//
// Security (sign-in and token handling are shared/web/session.js, served as ./session.js):
// the token is kept in sessionStorage (this tab only, gone when it closes) and sent
// only as an Authorization header to this same origin. Data is always written with
// textContent / DOM nodes, never as HTML, and the page's Content-Security-Policy allows only
// these script files: an injected string cannot run as script.
//
// Navigation state lives in the URL fragment (#org=...&campaign=...&class=...), so Back,
// Forward and bookmarks work; a token may arrive there too (#token=...) and is removed at once.

import { PALETTE, groupedColumns, horizontalBars, stackedShare } from "./charts.js";
import { Session, Unauthorised, readHash } from "./session.js";

const TOKEN_KEY = "eduhub.dashboard.token";
const FORECAST_YEARS = 5;

const KIND_NAMES = {
  province: "Tỉnh/thành phố", commune: "Xã/phường", school: "Trường",
  daycare_group: "Nhóm trẻ", class: "Lớp", unknown: "Đơn vị",
};
const LEVEL_NAMES = { primary: "Tiểu học", lower_secondary: "THCS", upper_secondary: "THPT" };
const SUBJECT_NAMES = {
  van_hoa: "Văn hóa (GV tiểu học)", tieng_viet: "Tiếng Việt", toan: "Toán",
  ngoai_ngu: "Ngoại ngữ", ngu_van: "Ngữ văn", lich_su_dia_ly: "Lịch sử và Địa lí",
  khoa_hoc_tu_nhien: "Khoa học tự nhiên", gdcd: "Giáo dục công dân", cong_nghe: "Công nghệ",
  tin_hoc: "Tin học", gdtc: "Giáo dục thể chất", nghe_thuat: "Nghệ thuật",
  hdtn: "Hoạt động trải nghiệm", gddp: "Giáo dục địa phương", lich_su: "Lịch sử",
  dia_ly: "Địa lí", gdktpl: "GD kinh tế và pháp luật", vat_ly: "Vật lí", hoa_hoc: "Hóa học",
  sinh_hoc: "Sinh học", am_nhac: "Âm nhạc", my_thuat: "Mĩ thuật", qpan: "GD quốc phòng và an ninh",
};

const $ = (id) => document.getElementById(id);
const numberFormat = new Intl.NumberFormat("vi-VN");
const decimalFormat = new Intl.NumberFormat("vi-VN", {
  minimumFractionDigits: 1, maximumFractionDigits: 1,
});
const shortFormat = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 1 });

function count(value) {
  return value == null ? "–" : numberFormat.format(value);
}
function share(value) {
  return value == null ? "–" : `${decimalFormat.format(value * 100)}%`;
}
function decimal(value) {
  return value == null ? "–" : decimalFormat.format(value);
}

// --------------------------------------------------------------------------- API

// Sign-in, token and authorised calls: shared/web/session.js (the same for every page).
const session = new Session(TOKEN_KEY, { onSignedIn: loadCampaignsAndRender });
const api = (path) => session.api(path);

function problemText(result) {
  if (result.status === 403) return "Đơn vị này nằm ngoài phạm vi được xem.";
  if (result.status === 404) return "Chưa có số liệu.";
  return `Không tải được số liệu (${result.status}${result.body?.detail ? `: ${result.body.detail}` : ""}).`;
}

// --------------------------------------------------------------------------- DOM helpers

function node(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null) continue;
    if (key === "class") element.className = value;
    else element.setAttribute(key, value);
  }
  for (const child of children) {
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An accessible table: caption, column headers, the first cell of a row as its header. */
function fillTable(table, caption, headers, rows, { total } = {}) {
  table.replaceChildren();
  table.append(node("caption", {}, caption));
  const head = node("tr");
  headers.forEach((h, i) => head.append(node("th", { scope: "col", class: i ? "n" : null }, h)));
  table.append(node("thead", {}, head));
  const body = node("tbody");
  const all = total ? [...rows, total] : rows;
  all.forEach((cells, r) => {
    const row = node("tr", { class: total && r === rows.length ? "total" : null });
    cells.forEach((cell, i) => {
      row.append(i === 0 ? node("th", { scope: "row" }, cell) : node("td", { class: "n" }, cell));
    });
    body.append(row);
  });
  if (!all.length) {
    body.append(node("tr", {}, node("td", { colspan: headers.length, class: "empty" },
      "Chưa có số liệu.")));
  }
  table.append(body);
}

function showChart(id, svg) {
  $(id).replaceChildren(...(svg ? [svg] : []));
}

function sectionMessage(section, message) {
  const box = $(section);
  box.querySelectorAll(".chart").forEach((c) => c.replaceChildren());
  box.querySelectorAll("table").forEach((t) => t.replaceChildren());
  let note = box.querySelector(".section-message");
  if (!note) {
    note = node("p", { class: "section-message" });
    box.querySelector("h3").after(note);
  }
  note.textContent = message;
}

function clearSectionMessage(section) {
  $(section).querySelector(".section-message")?.remove();
}

function setKpi(id, main, detail) {
  const dd = $(id);
  dd.replaceChildren(node("span", { class: "kpi-main" }, main));
  if (detail) dd.append(node("span", { class: "kpi-detail" }, detail));
}

function className(classId) {
  if (classId == null) return "Chưa xếp lớp";
  const parts = String(classId).split(":"); // records names classes school:year:name
  return `Lớp ${parts[parts.length - 1]}`;
}

// --------------------------------------------------------------------------- routing

function hashFor(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  return `#${search.toString()}`;
}

let campaigns = [];
let generation = 0;

function selectedCampaign() {
  return readHash().get("campaign") || campaigns[0]?.campaign_id || null;
}

// --------------------------------------------------------------------------- sections

function renderEnrolment(result) {
  if (!result.ok) {
    sectionMessage("enrolment", problemText(result));
    setKpi("kpi-learners", "–");
    return;
  }
  clearSectionMessage("enrolment");
  const stats = result.body;
  setKpi("kpi-learners", count(stats.total_enrolled));
  const years = stats.by_school_year;
  showChart("enrolment-chart", years.length ? groupedColumns({
    title: `Số học sinh theo năm học, ${stats.name}`,
    desc: years.map((y) => `${y.school_year}: ${count(y.enrolled)}`).join("; "),
    categories: years.map((y) => y.school_year),
    series: [{ name: "Số học sinh", values: years.map((y) => y.enrolled), color: PALETTE[0] }],
    format: (v) => count(v),
    whole: true,
  }) : null);
  fillTable($("enrolment-table"), "Số học sinh đang theo học", ["Năm học", "Số học sinh"],
    years.map((y) => [y.school_year, count(y.enrolled)]),
    { total: ["Tổng", count(stats.total_enrolled)] });
}

const NUTRITION_PARTS = [
  ["normal", "Bình thường", "#3a8f5c"],
  ["overweight", "Thừa cân", "#e0a31e"],
  ["obese", "Béo phì", "#b8413c"],
  ["thin", "Gầy", "#4d9fb8"],
  ["severely_thin", "Gầy nặng", "#1f5f99"],
  ["wasted", "Gầy còm (dưới 5 tuổi)", "#9c7b45"],
  ["severely_wasted", "Gầy còm nặng (dưới 5 tuổi)", "#7a5aa6"],
];

function renderNutrition(total, title) {
  if (!total || !total.measured) {
    sectionMessage("nutrition", "Chưa có số đo trong đợt này.");
    setKpi("kpi-overweight", "–");
    setKpi("kpi-stunting", "–");
    return;
  }
  clearSectionMessage("nutrition");
  const r = total.rates;
  setKpi("kpi-overweight", share(r.overweight_or_obese),
    `${count(total.overweight + total.obese)} / ${count(total.assessed)} học sinh`);
  setKpi("kpi-stunting", share(r.stunting), `${count(total.stunted)} / ${count(total.assessed)} học sinh`);
  const parts = NUTRITION_PARTS.filter(([key]) => total[key] > 0).map(([key, label, color]) => ({
    label, value: total[key], color,
    text: share(total.assessed ? total[key] / total.assessed : null),
  }));
  showChart("nutrition-chart", stackedShare({
    title: `Tình trạng dinh dưỡng, ${title}`,
    desc: parts.map((p) => `${p.label} ${p.text}`).join("; "),
    parts,
  }));
  fillTable($("nutrition-table"), `Học sinh được cân đo: ${count(total.measured)}; ` +
    `tỉ lệ tính trên ${count(total.assessed)} học sinh có số đo hợp lệ`,
  ["Tình trạng", "Số học sinh", "Tỉ lệ"], [
    ["Bình thường", count(total.normal), share(r.normal)],
    ["Thừa cân", count(total.overweight), share(r.overweight)],
    ["Béo phì", count(total.obese), share(r.obese)],
    ["Gầy (5–19 tuổi, kể cả gầy nặng)", count(total.thin + total.severely_thin), share(r.thinness)],
    ["Gầy nặng", count(total.severely_thin), share(r.severe_thinness)],
    ["Gầy còm (dưới 5 tuổi, kể cả nặng)", count(total.wasted + total.severely_wasted), share(r.wasting)],
    ["Thấp còi", count(total.stunted), share(r.stunting)],
    ["Số đo bất thường (không tính)", count(total.flagged), "–"],
    ["Không phân loại được", count(total.unknown), "–"],
  ]);
}

const SWIM_PARTS = [
  ["cannot_swim", "Không biết bơi", "#b8413c"],
  ["swims_with_aid", "Bơi khi có phao, hỗ trợ", "#e0a31e"],
  ["swims_25m_unaided", "Bơi được 25 m không hỗ trợ", "#3a8f5c"],
];

function renderSwimming(total, title) {
  if (!total || !total.assessed) {
    sectionMessage("swimming", "Chưa có đánh giá bơi trong đợt này.");
    setKpi("kpi-non-swimmers", "–");
    return;
  }
  clearSectionMessage("swimming");
  setKpi("kpi-non-swimmers", share(total.share_not_able),
    `${count(total.not_able_to_swim_safely)} / ${count(total.assessed)} học sinh`);
  const parts = SWIM_PARTS.map(([key, label, color]) => ({
    label, value: total[key], color, text: share(total[key] / total.assessed),
  }));
  showChart("swimming-chart", stackedShare({
    title: `Kỹ năng bơi, ${title}`, desc: parts.map((p) => `${p.label} ${p.text}`).join("; "), parts,
  }));
  fillTable($("swimming-table"), `Học sinh được đánh giá: ${count(total.assessed)}`,
    ["Mức", "Số học sinh", "Tỉ lệ"],
    SWIM_PARTS.map(([key, label]) => [label, count(total[key]), share(total[key] / total.assessed)]),
    { total: ["Chưa biết bơi an toàn", count(total.not_able_to_swim_safely), share(total.share_not_able)] });
}

const EYE_PARTS = [
  ["any_condition", "Có ít nhất một tật về mắt"],
  ["myopia", "Cận thị"], ["hyperopia", "Viễn thị"], ["astigmatism", "Loạn thị"],
  ["strabismus", "Lác"], ["other", "Bệnh mắt khác"],
];

function renderEyes(total, threshold, title) {
  if (!total || (!total.examined && !total.acuity_measured)) {
    sectionMessage("eyes", "Chưa có số liệu khám mắt trong đợt này.");
    setKpi("kpi-acuity", "–");
    return;
  }
  clearSectionMessage("eyes");
  const acuityLabel = `Thị lực dưới ${shortFormat.format(threshold * 10)}/10`;
  setKpi("kpi-acuity", share(total.rates.reduced_acuity),
    `${count(total.reduced_acuity)} / ${count(total.acuity_measured)} học sinh`);
  const rows = [
    ...EYE_PARTS.map(([key, label]) => ({ label, value: total.rates[key], text: share(total.rates[key]) })),
    { label: acuityLabel, value: total.rates.reduced_acuity, text: share(total.rates.reduced_acuity),
      color: PALETTE[1] },
  ];
  showChart("eyes-chart", horizontalBars({
    title: `Sức khỏe mắt, ${title}`, desc: rows.map((r) => `${r.label} ${r.text}`).join("; "),
    rows, max: niceShareMax(rows.map((r) => r.value)),
  }));
  fillTable($("eyes-table"), `Học sinh được khám mắt: ${count(total.examined)}; ` +
    `được đo thị lực: ${count(total.acuity_measured)}`, ["Chỉ số", "Số học sinh", "Tỉ lệ"], [
    ...EYE_PARTS.map(([key, label]) => [label, count(total[key]), share(total.rates[key])]),
    [acuityLabel, count(total.reduced_acuity), share(total.rates.reduced_acuity)],
  ]);
}

/** Shares are drawn on a 0..1 scale cut to a round figure above the largest, e.g. 0..0.5. */
function niceShareMax(values) {
  const largest = Math.max(0, ...values.filter((v) => v != null));
  for (const step of [0.05, 0.1, 0.2, 0.25, 0.5, 1]) if (largest <= step) return step;
  return 1;
}

function renderForecast(result) {
  if (!result.ok) {
    sectionMessage("forecast", problemText(result));
    setKpi("kpi-shortage", "–");
    return;
  }
  clearSectionMessage("forecast");
  const report = result.body;
  const area = report.area;
  const years = report.years;
  const sums = years.map((year) => {
    const rows = area.levels.filter((l) => l.year === year);
    const sum = (key) => rows.reduce((s, l) => s + l[key], 0);
    return { year, demand: sum("demand"), supply: sum("supply"), shortage: sum("shortage") };
  });
  const yearName = (y) => `${y}-${y + 1}`;
  if (!area.levels.length || !sums.length) {
    sectionMessage("forecast", "Đơn vị không có trường phổ thông để dự báo.");
    setKpi("kpi-shortage", "–");
    return;
  }
  // The year the unit is shortest of teachers (the first such year on a tie).
  const peak = sums.reduce((worst, s) => (s.shortage > worst.shortage ? s : worst));
  setKpi("kpi-shortage", peak.shortage >= 0 ? `Thiếu ${decimal(peak.shortage)}` :
    `Thừa ${decimal(-peak.shortage)}`, `giáo viên, năm học ${yearName(peak.year)}`);
  showChart("forecast-chart", groupedColumns({
    title: `Nhu cầu và số giáo viên hiện có, ${area.name}`,
    desc: sums.map((s) => `${yearName(s.year)}: nhu cầu ${decimal(s.demand)}, hiện có ${count(s.supply)}`).join("; "),
    categories: sums.map((s) => yearName(s.year)),
    series: [
      { name: "Nhu cầu (GV)", values: sums.map((s) => s.demand), color: PALETTE[1] },
      { name: "Hiện có (GV)", values: sums.map((s) => s.supply), color: PALETTE[0] },
    ],
    format: (v) => decimal(v),
  }));
  fillTable($("forecast-table"), `Theo cấp học; năm học cơ sở ${yearName(report.base_year)}`,
    ["Cấp học, năm học", "Số lớp", "Nhu cầu (GV)", "Định mức tối đa", "Hiện có", "Thiếu (+) / thừa (−)"],
    area.levels.map((l) => [`${LEVEL_NAMES[l.level] ?? l.level}, ${yearName(l.year)}`,
      count(l.classes), decimal(l.demand), decimal(l.staffing_cap), count(l.supply),
      decimal(l.shortage)]));
  // Subjects by their largest shortage over the horizon, each year side by side.
  const worst = (s) => Math.max(...s.years.map((y) => y.shortage));
  const subjects = [...area.subjects].sort((a, b) => worst(b) - worst(a)).slice(0, 10);
  fillTable($("forecast-subjects"),
    "Các môn thiếu nhiều nhất: thiếu (+) / thừa (−) giáo viên theo năm học",
    ["Môn (cấp học)", ...years.map(yearName)],
    subjects.map((s) => [
      `${SUBJECT_NAMES[s.subject] ?? s.subject} (${LEVEL_NAMES[s.level] ?? s.level})`,
      ...years.map((year) => decimal(s.years.find((y) => y.year === year)?.shortage))]));
}

const RESULT_LEVELS = [
  ["tot", "Tốt", "#3a8f5c"], ["kha", "Khá", "#4d9fb8"], ["dat", "Đạt", "#e0a31e"],
  ["chua_dat", "Chưa đạt", "#b8413c"],
];

/** Levels of the finalised terms (Circular 22) and subject averages, for a unit or a class. */
function renderResults(figures, schoolYear, title) {
  const levels = figures?.levels;
  if (!figures || (!levels.learners && !figures.subjects.length)) {
    sectionMessage("results", schoolYear
      ? `Chưa có học kỳ nào được khoá sổ trong năm học ${schoolYear}.` : "Chưa có số liệu.");
    return;
  }
  clearSectionMessage("results");
  const withLevel = levels.learners - levels.no_level;
  const parts = RESULT_LEVELS.filter(([key]) => levels[key] > 0).map(([key, label, color]) => ({
    label, value: levels[key], color, text: share(levels.rates[key]),
  }));
  showChart("results-chart", parts.length ? stackedShare({
    title: `Mức kết quả học tập, ${title}`,
    desc: parts.map((p) => `${p.label} ${p.text}`).join("; "), parts,
  }) : null);
  fillTable($("results-table"), `Năm học ${schoolYear}, cả năm: ${count(levels.learners)} học ` +
    `sinh; tỉ lệ tính trên ${count(withLevel)} học sinh được xếp mức`,
  ["Mức", "Số học sinh", "Tỉ lệ"], [
    ...RESULT_LEVELS.map(([key, label]) => [label, count(levels[key]), share(levels.rates[key])]),
    ["Chưa xếp mức", count(levels.no_level), "–"],
  ]);
  fillTable($("results-subjects"), "Điểm trung bình môn", ["Môn", "Số học sinh có điểm TB",
    "Điểm TB", "Dưới 5,0", "Đạt (môn đánh giá bằng nhận xét)", "Chưa đạt"],
  figures.subjects.map((subject) => [
    SUBJECT_NAMES[subject.subject_code] ?? subject.subject_code, count(subject.averaged),
    subject.mean == null ? "–" : new Intl.NumberFormat("vi-VN", {
      minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(subject.mean),
    share(subject.share_below_5), count(subject.dat), count(subject.chua_dat)]));
}

const AGE_BAND_NAMES = {
  under_30: "Dưới 30", "30_39": "30–39", "40_49": "40–49", "50_54": "50–54", "55_59": "55–59",
  "60_plus": "Từ 60",
};

function renderTeachers(result) {
  if (!result?.ok) {
    sectionMessage("teachers", result ? problemText(result) : "Chưa có số liệu.");
    return;
  }
  const stats = result.body;
  if (!stats.teachers) {
    sectionMessage("teachers", `Chưa có giáo viên trong hồ sơ, năm học ${stats.school_year}.`);
    return;
  }
  clearSectionMessage("teachers");
  const bands = stats.age_bands;
  const label = (band) => AGE_BAND_NAMES[band] ?? band;
  showChart("teachers-chart", groupedColumns({
    title: `Giáo viên theo độ tuổi và giới tính, ${stats.name}`,
    desc: bands.map((b) => `${label(b)}: nữ ${stats.by_age_band[b].female}, nam ` +
      `${stats.by_age_band[b].male}`).join("; "),
    categories: bands.map(label),
    series: [
      { name: "Nữ", values: bands.map((b) => stats.by_age_band[b].female), color: PALETTE[6] },
      { name: "Nam", values: bands.map((b) => stats.by_age_band[b].male), color: PALETTE[0] },
    ],
    format: (v) => count(v),
    whole: true,
  }));
  const sum = (key) => bands.reduce((n, b) => n + stats.by_age_band[b][key], 0);
  fillTable($("teachers-table"), `Năm học ${stats.school_year}; tuổi tính đến năm ` +
    `${stats.reference_day.slice(0, 4)}`, ["Độ tuổi", "Nữ", "Nam", "Tổng"],
  bands.map((b) => [label(b), count(stats.by_age_band[b].female),
    count(stats.by_age_band[b].male), count(stats.by_age_band[b].total)]),
  { total: ["Tổng", count(sum("female")), count(sum("male")), count(stats.teachers)] });
  fillTable($("teachers-subjects"), "Giáo viên theo môn chính", ["Môn chính", "Số giáo viên"],
    stats.subjects.map((subject) => [subject.subject_code
      ? SUBJECT_NAMES[subject.subject_code] ?? subject.subject_code : "Chưa ghi môn",
    count(subject.teachers)]));
}

/**
 * The table of units one level down (or of classes, in a school): learners, swimming,
 * nutrition and eyes side by side, each name a link one level further down.
 */
function renderParts(unit, health, campaign) {
  const leaf = unit.kind === "school" || unit.kind === "daycare_group";
  const rows = new Map();
  const rowFor = (id, kind, name) => {
    const key = id ?? "";
    if (!rows.has(key)) rows.set(key, { id, kind, name, enrolled: null });
    return rows.get(key);
  };
  if (!leaf) unit.children.forEach((c) => { rowFor(c.org_id, c.kind, c.name).enrolled = c.enrolled; });
  for (const [key, stats] of Object.entries(health)) {
    for (const part of stats?.breakdown ?? []) {
      const row = rowFor(part.unit_id, part.kind, part.name ?? (leaf ? className(part.unit_id) : part.unit_id));
      row[key] = part.total;
    }
  }
  const list = [...rows.values()].sort((a, b) => String(a.name).localeCompare(String(b.name), "vi"));
  $("parts-title").textContent = leaf ? "Các lớp" : "Đơn vị trực thuộc";
  const link = (row) => {
    if (leaf && row.id == null) return row.name;
    const target = leaf ? { org: unit.org_id, class: row.id } : { org: row.id };
    return node("a", { href: hashFor({ campaign, ...target }), "data-unit": row.id }, row.name);
  };
  fillTable($("parts-table"), leaf ? `Số liệu theo lớp, ${unit.name}` :
    `Số liệu theo đơn vị trực thuộc, ${unit.name}`,
  [leaf ? "Lớp" : "Đơn vị", "Số học sinh", "Được đánh giá bơi", "Chưa biết bơi an toàn",
    "Được cân đo", "Thừa cân, béo phì", "Thấp còi", "Giảm thị lực"],
  list.map((row) => [
    link(row),
    leaf ? "–" : count(row.enrolled),
    count(row.swimming?.assessed),
    share(row.swimming?.share_not_able),
    count(row.nutrition?.measured),
    share(row.nutrition?.rates.overweight_or_obese),
    share(row.nutrition?.rates.stunting),
    share(row.eyes?.rates.reduced_acuity),
  ]));
  const withSwims = list.filter((row) => row.swimming?.assessed);
  const chartRows = withSwims.length ? withSwims.map((row) => ({
    label: row.name, value: row.swimming.share_not_able, text: share(row.swimming.share_not_able),
    color: PALETTE[3],
  })) : list.filter((row) => row.enrolled).map((row) => ({
    label: row.name, value: row.enrolled, text: count(row.enrolled),
  }));
  const title = withSwims.length ? "Tỉ lệ chưa biết bơi an toàn" : "Số học sinh";
  showChart("parts-chart", chartRows.length ? horizontalBars({
    title: `${title} theo ${leaf ? "lớp" : "đơn vị"}, ${unit.name}`,
    desc: chartRows.map((r) => `${r.label}: ${r.text}`).join("; "),
    rows: chartRows,
    max: withSwims.length ? niceShareMax(chartRows.map((r) => r.value)) : undefined,
  }) : null);
  if (!list.length) sectionMessage("parts", "Không có đơn vị trực thuộc có số liệu.");
  else clearSectionMessage("parts");
}

function renderBreadcrumb(unit, classId) {
  const items = unit.path.map((p, i) => {
    const last = i === unit.path.length - 1 && classId == null;
    const label = p.name;
    return node("li", {}, last ? node("span", { "aria-current": "page" }, label)
      : node("a", { href: hashFor({ campaign: selectedCampaign(), org: p.org_id }) }, label));
  });
  if (classId != null) {
    items.push(node("li", {}, node("span", { "aria-current": "page" }, className(classId))));
  }
  $("breadcrumb").replaceChildren(...items);
}

function fillCampaigns(selected) {
  const select = $("campaign");
  select.replaceChildren(...campaigns.map((c) => node("option", { value: c.campaign_id },
    `${c.campaign_id}${c.latest_on ? ` (${c.latest_on.split("-").reverse().join("/")})` : ""}`)));
  if (!campaigns.length) select.append(node("option", { value: "" }, "Chưa có đợt nào"));
  select.value = selected ?? "";
}

// --------------------------------------------------------------------------- one view

async function render() {
  const mine = ++generation;
  const params = readHash();
  const org = params.get("org") || session.claims.org;
  const classId = params.has("class") ? params.get("class") : null;
  const campaign = selectedCampaign();
  fillCampaigns(campaign);
  const app = $("app");
  app.dataset.state = "loading";
  $("status").textContent = "Đang tải số liệu…";
  const q = encodeURIComponent;
  const health = (indicator) => (campaign
    ? api(`stats/${indicator}/${q(org)}?campaign_id=${q(campaign)}`)
    : Promise.resolve({ ok: false, status: 404, body: null }));
  try {
    const [unitResult, enrolment, nutrition, swimming, eyes, forecast] = await Promise.all([
      api(`dashboard/api/units/${q(org)}`),
      classId == null ? api(`stats/enrolment/${q(org)}`) : null,
      health("nutrition"), health("swimming"), health("eyes"),
      classId == null ? api(`forecast/teachers?org_id=${q(org)}&years=${FORECAST_YEARS}`) : null,
    ]);
    // Results are asked for the latest school year with learners (of the school, for a class).
    const yearsSeen = enrolment?.ok ? enrolment.body.by_school_year : null;
    const schoolYear = yearsSeen?.length ? yearsSeen[yearsSeen.length - 1].school_year
      : classId?.split(":")[1] ?? null;
    const [results, teachers] = await Promise.all([
      schoolYear ? api(`stats/results/${q(org)}?school_year=${q(schoolYear)}&term=0`) : null,
      classId == null ? api(`stats/teachers/${q(org)}`) : null,
    ]);
    if (mine !== generation) return; // a newer view was asked for meanwhile
    if (!unitResult.ok) {
      $("unit-title").textContent = problemText(unitResult);
      $("status").textContent = "";
      app.dataset.state = "error";
      return;
    }
    const unit = unitResult.body;
    renderBreadcrumb(unit, classId);
    const ok = (r) => (r.ok ? r.body : null);
    const stats = { nutrition: ok(nutrition), swimming: ok(swimming), eyes: ok(eyes) };
    if (classId == null) {
      $("unit-title").textContent = `${unit.name}`;
      $("unit-title").dataset.kind = unit.kind;
      for (const id of ["parts", "enrolment", "forecast", "teachers"]) $(id).hidden = false;
      renderParts(unit, stats, campaign);
      renderEnrolment(enrolment);
      renderForecast(forecast);
      renderNutrition(stats.nutrition?.total, unit.name);
      renderSwimming(stats.swimming?.total, unit.name);
      renderEyes(stats.eyes?.total, stats.eyes?.reduced_acuity_below ?? 0, unit.name);
      renderResults(results?.ok ? results.body : null, schoolYear, unit.name);
      renderTeachers(teachers);
    } else {
      // A class: its figures are the school's breakdown row for it (analytics keeps no
      // class-level enrolment or forecast).
      const title = `${className(classId)} — ${unit.name}`;
      $("unit-title").textContent = title;
      $("unit-title").dataset.kind = "class";
      for (const id of ["parts", "enrolment", "forecast", "teachers"]) $(id).hidden = true;
      const part = (s) => s?.breakdown.find((p) => (p.unit_id ?? "") === classId)?.total ?? null;
      setKpi("kpi-learners", "–");
      setKpi("kpi-shortage", "–");
      renderNutrition(part(stats.nutrition), title);
      renderSwimming(part(stats.swimming), title);
      renderEyes(part(stats.eyes), stats.eyes?.reduced_acuity_below ?? 0, title);
      const classResults = results?.ok
        ? results.body.breakdown.find((p) => p.unit_id === classId) ?? null : null;
      renderResults(classResults, schoolYear, title);
    }
    const when = new Date().toLocaleTimeString("vi-VN");
    $("status").textContent = campaign ? `Đợt ${campaign} · cập nhật lúc ${when}`
      : `Cập nhật lúc ${when}`;
    document.title = `${$("unit-title").textContent} — Bảng thống kê giáo dục`;
    app.dataset.state = "ready";
  } catch (error) {
    if (error instanceof Unauthorised) {
      session.showLogin("Mã truy cập hết hạn hoặc không hợp lệ. Xin đăng nhập lại.");
      return;
    }
    $("status").textContent = `Lỗi: ${error.message}`;
    app.dataset.state = "error";
  }
}

// --------------------------------------------------------------------------- start

/** Once signed in: the campaigns of the caller's own unit, then the view the URL names. */
async function loadCampaignsAndRender() {
  try {
    const listed = await api(`dashboard/api/campaigns/${encodeURIComponent(session.claims.org)}`);
    campaigns = listed.ok ? listed.body.campaigns : [];
  } catch (error) {
    if (error instanceof Unauthorised) {
      session.showLogin("Mã truy cập không hợp lệ. Xin kiểm tra lại.");
      return;
    }
    throw error;
  }
  await render();
}

function init() {
  $("campaign").addEventListener("change", (event) => {
    const current = readHash();
    location.hash = hashFor({ org: current.get("org"), class: current.get("class"),
      campaign: event.target.value });
  });
  window.addEventListener("hashchange", () => { if (session.signedIn) render(); });
  session.begin();
}

init();
