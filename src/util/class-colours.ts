/**
 * The project's class colours, once: figures (as hex), the OME-NGFF label metadata of the twin's and the segmenter's
 * label images (as RGBA), and napari or any viewer that reads those `colors` show one class in one colour everywhere.
 * Void is black and lithium light blue because the paper's figures draw them so (Park et al. 2023, Fig. 2).
 */
export type Rgba = [number, number, number, number];

export const CLASS_RGBA = {
  electrolyte: [200, 200, 200, 255],
  void: [0, 0, 0, 255],
  lithium: [0, 160, 255, 255],
  electrode: [107, 123, 140, 255],
  interphase: [227, 162, 26, 255],
} as const satisfies Record<string, Readonly<Rgba>>;

export type ClassColourName = keyof typeof CLASS_RGBA;

/** A class colour as CSS hex (#rrggbb). */
export function classHex(name: ClassColourName): string {
  return `#${CLASS_RGBA[name].slice(0, 3).map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

/** A class colour as a fresh RGBA array (label metadata is written from it). */
export function classRgba(name: ClassColourName): Rgba {
  const [r, g, b, a] = CLASS_RGBA[name];
  return [r, g, b, a];
}
