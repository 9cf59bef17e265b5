/** The value map wired. */
import { ValueMap } from "../components/ValueMap.js";
import { useUIActions, useUIState } from "../contexts.js";
import { useValueMapData } from "../hooks/use-valuemap-data.js";
import { useValueMapInput } from "../hooks/use-valuemap-input.js";

export function ValueMapScreen() {
  const { map, layout, theme } = useUIState();
  const { dispatchMap, source, back, gate } = useUIActions();
  useValueMapData(map, dispatchMap, source);
  useValueMapInput(map, dispatchMap, back, gate);
  return <ValueMap state={map} theme={theme} width={layout.width} height={layout.body} />;
}
