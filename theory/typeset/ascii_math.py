"""ASCII mathematics as the toolkit writes it, parsed into tokens, and found inside prose.

The toolkit writes justifications, claim titles and opaque symbol names in the ASCII notation of
REFERENCE.md: ``grad_h l_i = W^T delta_i``, ``-(1/(n lam)) G_h H^T``, ``(W_j^T W_j)^(L-j+1)``.
:func:`tokens` parses such a string (a word or bracket with its sub- and superscripts and primes
is one token); :func:`spans` splits prose into alternating runs of text and maths.

Conventions (REFERENCE.md): ``lam`` is lambda, ``grad`` is nabla, ``sum`` is a sum sign, ``ell``
is the script l, ``X^T`` a transpose, ``x_i`` a subscript (braces or parentheses group:
``W_{j+1}``, ``AGOP^(1/2)``); ``W3`` is W with subscript 3; ``o`` between spaces is the Hadamard
product, ``x`` between two sizes ("m x n") is "times"; ``<=``, ``>=``, ``!=``, ``->`` and
``...`` become their symbols. An unbraced superscript takes one letter (``W^Tgrad`` is W^T grad),
or a whole Greek name, or a (signed) number; an unbraced subscript takes the whole word.

Maths inside prose is found token by token: a word with a sub- or superscript, a Greek name, a
single letter other than "a", "A" and "I", a matrix name (FACT, AGOP, NFM), a differential
("dZ"); then operators, numbers, brackets and the weak letters join neighbouring maths, and a
bracket pair is maths when everything inside it is. Equation tags (F1, D5) and hyphenated words
("L-BFGS") stay text. The rules are heuristics and never fail: a character that fits no rule
stays text, so no input raises and no character is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["GREEK", "OPS", "SPECIAL", "UPRIGHT", "Tok", "spans", "tokens"]

GREEK = {
    "alpha": "\u03b1", "beta": "\u03b2", "gamma": "\u03b3", "delta": "\u03b4",
    "epsilon": "\u03b5", "zeta": "\u03b6", "eta": "\u03b7", "theta": "\u03b8", "kappa": "\u03ba",
    "lambda": "\u03bb", "lam": "\u03bb", "mu": "\u03bc", "nu": "\u03bd", "xi": "\u03be",
    "pi": "\u03c0", "rho": "\u03c1", "sigma": "\u03c3", "tau": "\u03c4", "phi": "\u03c6",
    "chi": "\u03c7", "psi": "\u03c8", "omega": "\u03c9", "Gamma": "\u0393", "Delta": "\u0394",
    "Theta": "\u0398", "Lambda": "\u039b", "Xi": "\u039e", "Pi": "\u03a0", "Sigma": "\u03a3",
    "Phi": "\u03a6", "Psi": "\u03a8", "Omega": "\u03a9",
}  # fmt: skip
#: names with a symbol of their own: (MathML character, LaTeX command)
SPECIAL = {"ell": ("\u2113", r"\ell"), "grad": ("\u2207", r"\nabla"), "sum": ("\u2211", r"\sum")}
#: upright multi-letter names: matrices of the theory and function names
UPRIGHT = {"FACT", "bFACT", "AGOP", "NFM", "Tr", "tr", "exp", "log", "diag", "sqrt", "det",
           "cdf", "pdf", "corr", "cos", "tanh", "sign", "span", "rank", "data"}  # fmt: skip
WEAK = {"a", "A", "I"}  # maths only next to an operator or another symbol ("a stationary point")
#: equation tags (F1, D5, ...) and assumption labels (A0, A1) are names, not W_1-style symbols
_TAG = re.compile(r"[FNDKSA]\d")
_STRONGOPS = {"<=", ">=", "!=", "->"}  # typeset even between words: "Pearson >= 0.9"

OPS = {"<=": ("\u2264", r"\le"), ">=": ("\u2265", r"\ge"), "!=": ("\u2260", r"\ne"),
        "->": ("\u2192", r"\to"), "...": ("\u2026", r"\dots"), "..": ("\u2026", r"\dots"),
        "||": ("\u2016", r"\|"), "-": ("\u2212", "-"), "*": ("\u22c5", r"\cdot"),
        "~": ("\u223c", r"\sim"), "x": ("\u00d7", r"\times"), "<": ("&lt;", "<"),
        ">": ("&gt;", ">"), "o": ("\u2218", r"\circ"),
        "{": ("{", r"\{"), "}": ("}", r"\}")}  # fmt: skip

_RAW = re.compile(
    r"(?P<space>\s+)|(?P<abbr>\b(?:i\.e\.|e\.g\.|cf\.|etc\.|w\.r\.t\.)|'s\b)|(?P<num>\d+(?:\.\d+)?(?:e[-+]?\d+)?)|(?P<word>[A-Za-z]+\d*)"
    r"|(?P<op><=|>=|!=|->|\.\.\.|\.\.|\|\||[=+\-*/<>|~^_'])|(?P<open>[(\[{])|(?P<close>[)\]}])"
    r"|(?P<punct>[,;:.!?])|(?P<other>.)",
    re.S,
)
_MATCH = {")": "(", "]": "[", "}": "{"}


@dataclass
class Tok:
    """One token: kind is space, num, word, op, open, close, punct or other."""

    kind: str
    text: str
    sub: list[Tok] | None = None
    sup: list[Tok] | None = None
    primes: int = 0
    math: bool = False


# -- tokens --------------------------------------------------------------------------------------
_QUOTE_OPEN = re.compile(r"(?:(?<=^)|(?<=[\s(\[]))'(?=\S)")
_QUOTE_CLOSE = re.compile(r"'(?=$|[\s:;,.)\]])")


def _quotes(text: str) -> set[int]:
    """Positions of quotation marks ('fact', 'W-W^T'): text, not primes as in k' or S_k'."""
    out: set[int] = set()
    for m in _QUOTE_OPEN.finditer(text):
        if m.start() in out:
            continue
        close = _QUOTE_CLOSE.search(text, m.start() + 1)
        if close is not None:
            out |= {m.start(), close.start()}
    return out


def _raw(text: str) -> list[tuple[str, str]]:
    quotes = _quotes(text)
    return [
        ("other" if m.start() in quotes else m.lastgroup or "other", m.group())
        for m in _RAW.finditer(text)
    ]


def _take_group(raw: list[tuple[str, str]], i: int) -> tuple[str, int] | None:
    """The text inside the bracket opening at raw[i], and the index after its match."""
    depth, j = 0, i
    while j < len(raw):
        kind, t = raw[j]
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth == 0:
                return "".join(x for _, x in raw[i + 1 : j]), j + 1
        j += 1
    return None


def _script(raw: list[tuple[str, str]], i: int, sup: bool) -> tuple[list[Tok], int] | None:
    """Parse the argument of ``_`` or ``^`` starting at raw[i]; None if there is none."""
    if i >= len(raw):
        return None
    kind, t = raw[i]
    if kind == "open" and t in "({":
        got = _take_group(raw, i)
        if got is not None:
            return tokens(got[0]), got[1]
        return None
    if kind == "num":
        return [Tok("num", t)], i + 1
    if kind == "op" and t == "-" and i + 1 < len(raw) and raw[i + 1][0] == "num":
        return [Tok("op", "-"), Tok("num", raw[i + 1][1])], i + 2
    if kind == "word":
        if not sup or t in GREEK or t in SPECIAL or len(t) == 1 or t[1:].isdigit():
            j, primes = i + 1, 0
            while not sup and j < len(raw) and raw[j] == ("op", "'"):
                j, primes = j + 1, primes + 1
            return [Tok("word", t, primes=primes)], j
        return [Tok("word", t[0])], _split_word(raw, i, 1)
    return None


def _split_word(raw: list[tuple[str, str]], i: int, n: int) -> int:
    """Consume the first n characters of the word raw[i]; the rest stays as the next token."""
    raw[i] = ("word", raw[i][1][n:])
    return i


def tokens(text: str) -> list[Tok]:
    raw = _raw(text)
    out: list[Tok] = []
    i = 0
    while i < len(raw):
        kind, t = raw[i]
        i += 1
        if kind == "word" and (m := re.fullmatch(r"([A-Za-z])(\d+)", t)) and not _TAG.fullmatch(t):
            tok = Tok("word", m.group(1), sub=[Tok("num", m.group(2))])
        else:
            tok = Tok(kind, t)
        if kind in ("word", "close", "num") or (kind == "op" and t in ("|", "||")):
            while i < len(raw) and raw[i][0] == "op" and raw[i][1] in "_^'":
                if raw[i][1] == "'":
                    tok.primes += 1
                    i += 1
                    continue
                is_sup = raw[i][1] == "^"
                got = _script(raw, i + 1, is_sup)
                if got is None or (tok.sup if is_sup else tok.sub) is not None:
                    break
                if is_sup:
                    tok.sup = got[0]
                else:
                    tok.sub = got[0]
                i = got[1]
        out.append(tok)
    return out


# -- where the maths is --------------------------------------------------------------------------
_TEXTLIKE = ("punct", "other", "abbr", "text-op")


def _strong(tok: Tok) -> bool:
    """A token that is maths on its own (module docstring); primes alone do not count ('fact')."""
    if tok.kind in ("close", "num"):  # "(...)^T", "1^T" (the all-ones vector transposed)
        return bool(tok.sub or tok.sup)
    if tok.kind != "word":
        return False
    t = tok.text
    if tok.sub or tok.sup:
        return not _TAG.fullmatch(t)
    if t in GREEK or t in SPECIAL or t in {"FACT", "bFACT", "AGOP", "NFM"}:
        return True
    return (len(t) == 1 and t not in WEAK) or bool(re.fullmatch(r"d[A-Z]", t))


def _identifier(tok: Tok) -> bool:
    """A snake_case name in prose ("sign_flipped", "fact_rel_error"), not a subscripted symbol:
    a lower-case base of three or more letters and a one-word lower-case subscript of three or
    more letters, neither Greek nor "grad" ("grad_W", "L_lam", "dL_data", "l_i" and "nabla_lam"
    stay maths)."""
    sub = [x for x in tok.sub or [] if x.kind != "space"]
    base = tok.text
    return (
        len(sub) == 1
        and sub[0].kind == "word"
        and not (sub[0].sub or sub[0].sup)
        and re.fullmatch(r"[a-z]{3,}", base) is not None
        and re.fullmatch(r"[a-z]{3,}", sub[0].text) is not None
        and not {base, sub[0].text} & (set(GREEK) | set(SPECIAL) | {"grad"})
    )


def _mark(toks: list[Tok]) -> None:
    """Set ``math`` on the tokens of prose that form mathematics (module docstring)."""
    for k, t in enumerate(toks):
        if t.kind == "word" and t.sub and not t.sup and _identifier(t):
            t.kind = "abbr"  # a snake_case name is text, and keeps its neighbours text
        chain = k + 1 < len(toks) and toks[k + 1].kind == "op" and toks[k + 1].text == "_"
        if chain and t.kind == "word" and re.fullmatch(r"[a-z]{3,}", t.text):
            j = k  # "missing_1_over_n": the words and underscores of one name
            while j < len(toks) and (toks[j].kind == "word" or toks[j].text == "_"):
                toks[j].kind = "abbr"
                j += 1
        t.math = _strong(t) or (t.kind == "op" and t.text in _STRONGOPS)
    sig = [k for k, t in enumerate(toks) if t.kind != "space"]
    for n, k in enumerate(sig):
        t = toks[k]
        nxt = toks[sig[n + 1]] if n + 1 < len(sig) else None
        prev = toks[sig[n - 1]] if n > 0 else None
        if t.text == "x" and t.kind == "word" and not (t.sub or t.sup) and _is_size(prev, nxt):
            t.kind, t.math = "op", True  # "(m x n)": a matrix size, x is "times"
        if t.kind == "word" and t.text in UPRIGHT and nxt is not None and nxt.text == "(":
            t.math = True  # Tr(..), exp(..): a function name applied to something
        if t.kind == "op" and t.text == "-" and 0 < n < len(sig) - 1:
            left, right = toks[sig[n - 1]], toks[sig[n + 1]]
            tight = sig[n - 1] == k - 1 and sig[n + 1] == k + 1
            if tight and left.kind == "word" and right.kind == "word":
                if not (left.math and right.math):  # hyphenated words: "L-BFGS", "first-order"
                    left.math = right.math = False
                    t.kind = "text-op"
            elif tight and left.kind == "word" and not left.math:  # "missing-1/n"
                t.kind = "text-op"
    while _join(toks, sig) | _brackets(toks):
        pass
    for k, t in enumerate(toks):  # a maths span neither starts nor ends with a lone operator
        if t.kind == "op" and t.math and t.text in "=+-*/<>|~" and t.text not in _STRONGOPS:
            prev = next((x for x in reversed(toks[:k]) if x.kind != "space"), None)
            nxt = next((x for x in toks[k + 1 :] if x.kind != "space"), None)
            if (prev is None or not prev.math) and (nxt is None or not nxt.math):
                t.math = False


def _is_size(prev: Tok | None, nxt: Tok | None) -> bool:
    """True for the neighbours of x in "m x n", "(d x n)", "8 x 4": sizes, not a variable x."""
    return all(
        x is not None and (x.kind == "num" or (x.kind == "word" and len(x.text) == 1))
        for x in (prev, nxt)
    )


def _join(toks: list[Tok], sig: list[int]) -> bool:
    """Operators, numbers, weak letters and differentials next to maths become maths."""
    changed = False
    for n, k in enumerate(sig):
        t = toks[k]
        if t.math or t.kind in _TEXTLIKE:
            continue
        left = toks[sig[n - 1]] if n > 0 else None
        right = toks[sig[n + 1]] if n + 1 < len(sig) else None
        tight_left = n > 0 and sig[n - 1] == k - 1
        tight_right = n + 1 < len(sig) and sig[n + 1] == k + 1
        if t.kind == "op" and t.text != "'":
            join = (left is not None and left.math) or (right is not None and right.math)
        elif t.kind == "num":  # "= 0", "2 lam", "1/n"; but not "lam 1e-2" or "step 3"
            join = (left is not None and left.math and (left.kind == "op" or tight_left)) or (
                right is not None and right.math and right.kind in ("op", "word", "open")
            )
        elif t.kind == "word" and (t.text in WEAK or t.text == "o"):
            join = any(x is not None and x.math and x.kind in ("op", "word", "close", "open")
                       for x in (left, right))  # fmt: skip
        elif t.kind == "word" and re.fullmatch(r"d[A-Za-z]", t.text):  # dl/dA, dD/dt
            join = (tight_right and right is not None and right.text == "/") or (
                tight_left and left is not None and left.text == "/"
            )
        else:
            join = False
        if join:
            t.math = changed = True
    return changed


def _brackets(toks: list[Tok]) -> bool:
    """A bracket pair is maths when everything inside is maths, numbers or operators."""
    changed = False
    stack: list[int] = []
    for k, t in enumerate(toks):
        if t.kind == "open":
            stack.append(k)
        elif t.kind == "close" and stack and toks[stack[-1]].text == _MATCH.get(t.text, ""):
            o = stack.pop()
            if toks[o].math and t.math:
                continue
            inner = [x for x in toks[o + 1 : k] if x.kind != "space"]
            plain = any(x.kind in _TEXTLIKE or (x.kind == "word" and not x.math) for x in inner)
            has_math = any(x.math and x.kind in ("word", "close") for x in inner)
            if (has_math and not plain) or t.sub or t.sup:
                toks[o].math = t.math = changed = True
                for x in inner:
                    x.math = True
    return changed


_RELATIONS = {"=", "<", ">", "<=", ">=", "!="}


def _condition_follows(toks: list[Tok], k: int) -> bool:
    """True when the space at ``k`` is followed by a bracketed condition, as in "divide by lam
    (lam > 0)": the condition is a remark beside the formula, not a factor of it."""
    j = next((i for i in range(k + 1, len(toks)) if toks[i].kind != "space"), None)
    if j is None or toks[j].kind != "open":
        return False
    depth = 0
    for x in toks[j:]:
        depth += (x.kind == "open") - (x.kind == "close")
        if depth == 1 and x.kind == "op" and x.text in _RELATIONS:
            return True
        if depth == 0:
            return False
    return False


def spans(text: str) -> list[tuple[bool, list[Tok]]]:
    """Alternating (is_maths, tokens) runs of prose; spaces inside maths stay with the maths."""
    toks = tokens(text)
    _mark(toks)
    runs: list[tuple[bool, list[Tok]]] = []
    for k, t in enumerate(toks):
        m = t.math
        if t.kind == "space":
            prev = next((x.math for x in reversed(toks[:k]) if x.kind != "space"), False)
            nxt = next((x.math for x in toks[k + 1 :] if x.kind != "space"), False)
            m = prev and nxt and not _condition_follows(toks, k)
        if runs and runs[-1][0] == m:
            runs[-1][1].append(t)
        else:
            runs.append((m, [t]))
    return runs
