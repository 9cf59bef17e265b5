/** The review screen wired. */
import { Review } from "../components/Review.js";
import { useUIActions, useUIState } from "../contexts.js";
import { useReviewData } from "../hooks/use-review-data.js";
import { firstChunk, origin, useReviewInput } from "../hooks/use-review-input.js";
import { selectedArray } from "../state/review.js";
import { useEffect } from "react";

export function ReviewScreen() {
  const { review, layout, theme } = useUIState();
  const { dispatchReview, source, back, gate, openMap } = useUIActions();
  useReviewData(review, dispatchReview, source);
  useReviewInput(review, dispatchReview, back, gate, openMap);
  // `i` typed while the diff was computed: the value map of the first array, now that it is there
  const arr = selectedArray(review);
  const ready = review.mapAsked && review.status !== "loading";
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, when the asked-for map can open
  useEffect(() => {
    if (!ready) return;
    dispatchReview({ type: "askMap", on: false });
    if (arr) openMap({ from: review.from, to: review.to, array: arr, at: origin(arr, firstChunk(arr)) });
  }, [ready]);
  return <Review state={review} theme={theme} width={layout.width} height={layout.body} panelRows={layout.review.panelRows} />;
}
