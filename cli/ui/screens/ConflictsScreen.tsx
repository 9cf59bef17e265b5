/** The conflicts screen wired. */
import { useCallback } from "react";
import { Conflicts } from "../components/Conflicts.js";
import { useUIActions, useUIState } from "../contexts.js";
import { useConflictsData } from "../hooks/use-conflicts-data.js";
import { useConflictsInput } from "../hooks/use-conflicts-input.js";

export function ConflictsScreen() {
  const { conflicts, layout, theme } = useUIState();
  const { dispatchConflicts, dispatchHistory, dispatchApp, source, back, gate } = useUIActions();
  const onConcluded = useCallback(
    (oid: string) => {
      dispatchHistory({ type: "reload", select: oid });
      dispatchApp({ type: "reset", screen: "history" });
    },
    [dispatchHistory, dispatchApp],
  );
  const { take, conclude } = useConflictsData(conflicts, dispatchConflicts, source, onConcluded);
  useConflictsInput(conflicts, { dispatch: dispatchConflicts, take, conclude, back }, gate);
  return <Conflicts state={conflicts} theme={theme} width={layout.width} height={layout.body} />;
}
