# promptfoo runs get_assert(output, context) of this file (type: python assertion).
from judgecal.integrations.promptfoo import get_assert  # noqa: F401
