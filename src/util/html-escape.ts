/** Escaping for the two places notebook text lands in HTML: element content/attributes, and inline <script> JSON. */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/**
 * JSON that is safe inside <script>...</script>: a "</script" (or "<!--") in a string would end the element early.
 * Everything outside ASCII is escaped as well, so the figure's text (µm, Ω) survives a page served without a
 * charset, and U+2028/2029 cannot break older JavaScript parsers.
 */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(/[<>\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}
