// CSV for spreadsheets (RFC 4180, UTF-8 with a byte order mark so Excel reads the accents), with
// formula injection neutralised: a text cell that starts with = + - @, a tab or a carriage return would
// be run as a formula by a spreadsheet, so it gets a leading apostrophe (OWASP "CSV injection").
// Numbers stay numbers: they are written by us, not typed by anyone.

const DANGEROUS = /^[=+\-@\t\r]/;

/** One cell as CSV text. */
export function cell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  let text = String(value);
  if (DANGEROUS.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Rows (arrays of cells) as CSV text, CRLF line ends. */
export function toCsv(rows) {
  return rows.map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

/** Offer `text` as a file download (a blob: link clicked once). */
export function download(filename, text) {
  const blob = new Blob(["\ufeff", text], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
