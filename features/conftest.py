"""The scenarios' glue lives in the library: options, fixtures, steps."""

from rtconform.run.plugin import *  # noqa: F403
from rtconform.run.steps import *  # noqa: F403
