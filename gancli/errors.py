"""The one exception type that means "the user asked for something wrong"."""


class GancliError(Exception):
    """A user error: the CLI prints its message on one line and exits with code 1."""


def did_you_mean(word: str, choices) -> str:
    """' (did you mean "x"?)' for the closest choice, or '' when nothing is close."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""
