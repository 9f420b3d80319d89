// Board profiles as the build sees them (scripts/boards.js validates and normalises them).
import type { BoardIo } from "../../firmware/led/spec.ts";

export interface Board extends BoardIo {
  id: string;
  name: string;
}

const boardsJs = new URL("../../scripts/boards.js", import.meta.url).href;

export async function loadBoards(): Promise<Board[]> {
  const mod = (await import(boardsJs)) as { loadBoards(): Board[] };
  return mod.loadBoards();
}
