"""Where grading writes how it went: the notebook metadata key, shared by every step."""

STATUS_KEY = "beth_grading"
