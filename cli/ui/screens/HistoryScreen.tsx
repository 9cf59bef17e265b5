/** The history screen wired: state and actions from the contexts, data and keys through hooks, the view with props. */
import { History } from "../components/History.js";
import { useUIActions, useUIState } from "../contexts.js";
import { useHistoryData } from "../hooks/use-history-data.js";
import { useHistoryInput } from "../hooks/use-history-input.js";
import { openTarget } from "../state/history.js";
import type { HistoryDeed } from "../state/actions.js";
import { errorText } from "../contexts.js";

export function HistoryScreen() {
  const { history, layout, theme } = useUIState();
  const { dispatchHistory, source, openReview, openConflicts, gate } = useUIActions();
  const act = (deed: HistoryDeed) => {
    dispatchHistory({ type: "busy", what: `${deed.what}…` });
    source.act(deed).then(
      (r) => {
        dispatchHistory({ type: "busy", what: null, note: r.note });
        dispatchHistory({ type: "reload", select: r.select });
        if (r.conflicts) openConflicts();
      },
      (err: unknown) => dispatchHistory({ type: "busy", what: null, note: `error: ${errorText(err)}` }),
    );
  };
  useHistoryData(history, dispatchHistory, source);
  useHistoryInput(
    history,
    {
      dispatch: dispatchHistory,
      open: (current) => {
        const t = openTarget(current);
        if (t) openReview(t);
      },
      conflicts: openConflicts,
      act,
    },
    gate,
  );
  return <History state={history} theme={theme} width={layout.width} height={layout.body} />;
}
