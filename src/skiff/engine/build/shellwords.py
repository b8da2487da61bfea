"""Docker's build-time word processing: quotes, escapes and `$VAR` substitution. Pure.

`process_word` gives one string (quotes removed, variables expanded: ENV values, WORKDIR,
USER, ...); `process_words` also splits on unquoted whitespace (COPY/ADD sources, EXPOSE,
VOLUME in shell form). Expansions outside quotes are split too, as Docker does.
Supported forms: `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`,
`${NAME+word}`, `${NAME:?message}`, `${NAME?message}`.
"""

from __future__ import annotations

from collections.abc import Mapping

from skiff.common.errors import InvalidArgument


class _Words:
    def __init__(self) -> None:
        self.words: list[str] = []
        self.word = ""
        self.in_word = False

    def add_raw(self, s: str) -> None:
        self.word += s
        self.in_word = True

    def add_split(self, s: str) -> None:
        for ch in s:
            if ch.isspace():
                if self.in_word:
                    self.words.append(self.word)
                    self.word, self.in_word = "", False
            else:
                self.add_raw(ch)

    def result(self) -> list[str]:
        if self.in_word:
            return [*self.words, self.word]
        return list(self.words)


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str], escape: str):
        self.s = text
        self.i = 0
        self.env = env
        self.esc = escape

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def next(self) -> str:
        ch = self.peek()
        self.i += 1
        return ch

    def run(self, words: _Words, stop: str = "") -> None:
        """Process until `stop` (consumed) or the end."""
        while self.i < len(self.s):
            ch = self.peek()
            if stop and ch == stop:
                self.i += 1
                return
            if ch == "'":
                self.i += 1
                words.add_raw(self.single_quoted())
            elif ch == '"':
                self.i += 1
                words.add_raw(self.double_quoted())
            elif ch == "$":
                self.i += 1
                words.add_split(self.dollar())
            elif ch == self.esc:
                self.i += 1
                nxt = self.next()
                words.add_raw(nxt if nxt else self.esc)
            else:
                self.i += 1
                if ch.isspace():
                    words.add_split(ch)
                else:
                    words.add_raw(ch)
        if stop:
            raise InvalidArgument(f"missing '{stop}'")

    def single_quoted(self) -> str:
        end = self.s.find("'", self.i)
        if end < 0:
            raise InvalidArgument("unexpected end of statement while looking for matching single-quote")
        out = self.s[self.i:end]
        self.i = end + 1
        return out

    def double_quoted(self) -> str:
        out: list[str] = []
        while True:
            if self.i >= len(self.s):
                raise InvalidArgument("unexpected end of statement while looking for matching double-quote")
            ch = self.next()
            if ch == '"':
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
            elif ch == self.esc:
                nxt = self.peek()
                if nxt in ('"', "$", self.esc) and nxt:
                    out.append(self.next())
                else:
                    out.append(ch)
            else:
                out.append(ch)

    def name(self) -> str:
        start = self.i
        if self.peek().isdigit():  # $1 ... positional: one digit, always empty
            self.i += 1
            return self.s[start:self.i]
        while self.peek() and (self.peek().isalnum() or self.peek() == "_"):
            self.i += 1
        return self.s[start:self.i]

    def dollar(self) -> str:
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            return self.env.get(name, "")
        self.i += 1
        name = self.name()
        if not name:
            raise InvalidArgument(f"bad substitution: missing variable name in {self.s!r}")
        ch = self.next()
        if ch == "}":
            return self.env.get(name, "")
        colon = ch == ":"
        if colon:
            ch = self.next()
        if ch not in "-+?" or not ch:
            raise InvalidArgument(f"unsupported modifier ({ch}) in substitution")
        inner = _Words()
        self.run(inner, stop="}")
        word = inner.word if not inner.words else " ".join([*inner.words, inner.word]).strip()
        value = self.env.get(name)
        is_set = value is not None and (value != "" or not colon)
        if ch == "-":
            return value if is_set and value is not None else word
        if ch == "+":
            return word if is_set else ""
        if not is_set:
            raise InvalidArgument(f"{name}: {word or 'is not allowed to be unset'}")
        return value or ""


def process_word(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """One word: quotes removed, variables expanded, whitespace kept."""
    lex = _Lexer(text, env, escape)
    words = _Words()
    words.add_split = words.add_raw  # type: ignore[method-assign]  # one word: never split
    lex.run(words)
    return words.word


def process_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Words split on unquoted whitespace, each with quotes removed and variables expanded."""
    lex = _Lexer(text, env, escape)
    words = _Words()
    lex.run(words)
    return words.result()
