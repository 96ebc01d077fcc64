/** Markdown to HTML, the same way for display outputs and for the HTML export (GitHub-flavoured, via marked). */
import { Marked } from "marked";

const md = new Marked({ gfm: true });

export function markdownHtml(text: string): string {
  return md.parse(text, { async: false });
}
