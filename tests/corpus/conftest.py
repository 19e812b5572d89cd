"""Print the corpus counts at the end of the run (``pytest tests/corpus -s`` or any run that includes it)."""

from tests.corpus.generate import OUTCOMES, format_table, summarize


def pytest_terminal_summary(terminalreporter):
    if not OUTCOMES:
        return
    terminalreporter.section("soundness corpus")
    terminalreporter.write_line(format_table(summarize(list(OUTCOMES.values()))))
