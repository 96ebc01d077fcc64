/**
 * Reading a generated twin dataset back: the manifest (truth) and the side files, typed. The volumes themselves
 * are read with OmeImage.open(path) from src/volume.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FileFormatError } from "../util/errors.js";
import { ELECTROCHEM_FILE, MANIFEST_FILE, XAS_FILE, type TwinManifest } from "./generate.js";

export interface SpectrumJson {
  label: string;
  time_h: number | null;
  circuit: string;
  params: Record<string, number>;
  freq_Hz: number[];
  re_ohm: number[];
  im_ohm: number[];
}

export interface VoltageCurveJson {
  current_mA_cm2: number;
  time_s: number[];
  current_mA: number[];
  voltage_V: number[];
  short_h: number;
}

export interface TwinElectrochemJson {
  voltage: VoltageCurveJson;
  /** Screening runs (default 0.6, 0.8 and 1.0 mA/cm2). */
  screening: VoltageCurveJson[];
  /** One spectrum per CT time point. */
  impedance: SpectrumJson[];
  blocking: SpectrumJson;
  dcPolarisation: {
    voltage_V: number;
    thickness_um: number;
    area_cm2: number;
    time_s: number[];
    current_A: number[];
    steadyCurrent_A: number;
    electronicConductivity_S_cm: number;
  };
}

export interface XasSpectrumJson {
  edge: "S" | "P";
  label: string;
  E_eV: number[];
  mu: number[];
  fractions: Record<string, number>;
}

export interface TwinXasJson {
  references: XasSpectrumJson[];
  measured: XasSpectrumJson[];
  decompositionFraction: number;
}

export interface TwinDataset {
  path: string;
  manifest: TwinManifest;
  electrochem: TwinElectrochemJson;
  xas: TwinXasJson;
}

function readJson<T>(path: string, check: (x: Record<string, unknown>) => boolean, expected: string): T {
  if (!existsSync(path)) throw new FileFormatError("twin dataset file missing", { path, expected: `${expected} (run npm run twin)` });
  let x: unknown;
  try {
    x = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new FileFormatError("twin dataset file is not JSON", { path, got: String(e) });
  }
  if (!x || typeof x !== "object" || !check(x as Record<string, unknown>)) throw new FileFormatError("unexpected twin dataset file content", { path, expected });
  return x as T;
}

/** Loads the manifest, electrochemistry and XAS files of a dataset written by generateTwin. */
export function loadTwinDataset(path: string): TwinDataset {
  const manifest = readJson<TwinManifest>(join(path, MANIFEST_FILE), (x) => x.format === "ssb-ct-twin" && x.version === 1, `${MANIFEST_FILE} with format "ssb-ct-twin", version 1`);
  const electrochem = readJson<TwinElectrochemJson>(join(path, ELECTROCHEM_FILE), (x) => Array.isArray(x.impedance) && typeof x.voltage === "object", `${ELECTROCHEM_FILE} with voltage and impedance`);
  const xas = readJson<TwinXasJson>(join(path, XAS_FILE), (x) => Array.isArray(x.references) && Array.isArray(x.measured), `${XAS_FILE} with references and measured spectra`);
  return { path, manifest, electrochem, xas };
}
