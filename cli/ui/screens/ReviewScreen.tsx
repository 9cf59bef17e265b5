/** The review screen wired. */
import { Review } from "../components/Review.js";
import { useUIActions, useUIState } from "../contexts.js";
import { useReviewData } from "../hooks/use-review-data.js";
import { useReviewInput } from "../hooks/use-review-input.js";

export function ReviewScreen() {
  const { review, layout, theme } = useUIState();
  const { dispatchReview, source, back, gate, openMap } = useUIActions();
  useReviewData(review, dispatchReview, source);
  useReviewInput(review, dispatchReview, back, gate, openMap);
  return <Review state={review} theme={theme} width={layout.width} height={layout.body} panelRows={layout.review.panelRows} />;
}
