"""Judge rubric templates (installed as ``judgecal.prompts``); data files, no code."""
