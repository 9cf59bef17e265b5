/** How a terminal of width × height is shared between the parts of each screen. Pure. */
export interface Layout {
  width: number;
  height: number;
  /** lines between the header and the footer */
  body: number;
  history: { listRows: number };
  review: { listRows: number; gridRows: number; gridCols: number; panelRows: number };
  conflicts: { listRows: number };
  /** the value map's pictures: cells (two pixels each) */
  map: { rows: number; cols: number };
}

/** Width of one heatmap cell (`[*]` for the cursor), and of the row labels before the cells. */
export const CELL = 3;
export const ROW_LABEL = 5;
/** The row labels when they are coordinate values (a date is 10 characters): the window leaves room for them. */
export const ROW_LABEL_COORDS = 11;

export function layout(width: number, height: number): Layout {
  const w = Math.max(20, width);
  const h = Math.max(8, height);
  const body = h - 2;
  // the least the chunk panel under the heatmap gets (a grid of few rows leaves it the rest of the screen)
  const panelRows = Math.max(4, Math.floor(body * 0.4));
  return {
    width: w,
    height: h,
    body,
    // one line for the selected commit, one for the prompt or a message
    history: { listRows: Math.max(1, body - 2) },
    review: {
      listRows: Math.max(3, Math.floor((body - 2) * 0.4)),
      // title, column numbers and legend lines around the grid
      gridRows: Math.max(1, body - 3 - panelRows),
      gridCols: Math.max(1, Math.floor((w - ROW_LABEL_COORDS) / CELL)),
      panelRows,
    },
    conflicts: { listRows: Math.max(3, Math.floor((body - 2) * 0.35)) },
    // title, heading, colour bars, key, cursor and a note around the pictures
    map: { rows: Math.max(1, body - 6), cols: w },
  };
}
