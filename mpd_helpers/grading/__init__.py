"""The grading: the submission file and its verifier, the challenge's metrics, and bootstrap
intervals for comparing systems playlist by playlist."""
