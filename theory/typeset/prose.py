"""ASCII mathematics typeset as LaTeX, MathML or Markdown (no SymPy).

- :func:`math_latex` / :func:`math_mathml`: a string that is maths throughout (a symbol name such
  as ``grad_W L_lambda``, or a step side such as ``(r/(n lam)) M S_k'``);
- :func:`prose_latex` / :func:`prose_html` / :func:`prose_markdown`: prose with maths inside it,
  the maths inline (``$...$`` or ``<math>``), the text escaped for its format.

The parsing, and how maths is found inside prose, is :mod:`theory.typeset.ascii_math`.
"""

from __future__ import annotations

import html
import re

from theory.typeset.ascii_math import GREEK, OPS, SPECIAL, UPRIGHT, Tok, spans, tokens

__all__ = [
    "math_latex",
    "math_mathml",
    "prose_html",
    "prose_latex",
    "prose_markdown",
    "tex_escape",
]


# -- rendering -----------------------------------------------------------------------------------
def _word_latex(t: str) -> str:
    if t in GREEK:
        name = "lambda" if t == "lam" else t
        return "\\" + name
    if t in SPECIAL:
        return SPECIAL[t][1]
    if t in UPRIGHT or len(t) > 2:
        return r"\mathrm{" + t + "}"
    return t


def _latex(toks: list[Tok]) -> str:
    out = []
    for t in toks:
        if t.kind == "space":
            out.append(" ")
            continue
        if t.kind == "word":
            s = r"\circ" if t.text == "o" and not (t.sub or t.sup) else _word_latex(t.text)
        elif t.kind in ("op", "text-op"):
            s = OPS.get(t.text, (None, t.text))[1] if t.text != "'" else "'"
            s = {"&": r"\&", "%": r"\%", "#": r"\#", "$": r"\$", "_": r"\_", "^": r"\hat{}"}.get(
                s, s
            )
        elif t.kind in ("open", "close"):
            s = {"{": r"\{", "}": r"\}"}.get(t.text, t.text)
        elif t.kind == "other":
            s = r"\text{" + tex_escape(t.text) + "}"
        else:
            s = t.text
        s += "'" * t.primes
        if t.kind == "word" and len(t.text) == 2 and (t.sub is not None or t.sup is not None):
            s = "{" + s + "}"  # "dl_i": the subscript belongs to both letters
        if t.sub is not None:
            s += "_{" + _latex(t.sub) + "}"
        if t.sup is not None:
            s += "^{" + _latex(t.sup) + "}"
        if re.search(r"\\[A-Za-z]+$", s):
            s += " "  # "\\dots L" must not become the unknown command "\\dotsL"
        out.append(s)
    return re.sub(r" +", " ", "".join(out)).strip()


def _mi(t: str) -> str:
    if t in GREEK:
        return f"<mi>{GREEK[t]}</mi>"
    if t in SPECIAL:
        return f"<mo>{SPECIAL[t][0]}</mo>" if t != "ell" else f"<mi>{SPECIAL[t][0]}</mi>"
    if t in UPRIGHT or len(t) > 2:
        return f"<mi>{html.escape(t)}</mi>"  # several letters: upright by MathML's rules
    return "".join(f"<mi>{c}</mi>" for c in t)


_ATOMS = ("word", "num", "close", "open")


def _mathml(toks: list[Tok]) -> str:
    out = []
    for k, t in enumerate(toks):
        if t.kind == "space":  # between two symbols, a thin space ("FACT FACT^T")
            if 0 < k < len(toks) - 1 and toks[k - 1].kind in _ATOMS and toks[k + 1].kind in _ATOMS:
                out.append('<mspace width="0.2em"></mspace>')
            continue
        if t.kind == "word":
            s = "<mo>\u2218</mo>" if t.text == "o" and not (t.sub or t.sup) else _mi(t.text)
        elif t.kind == "num":
            s = f"<mn>{t.text}</mn>"
        elif t.kind in ("open", "close"):
            s = f'<mo stretchy="false">{html.escape(t.text)}</mo>'
        elif t.kind in ("op", "text-op"):
            sym = OPS.get(t.text, (html.escape(t.text), ""))[0] if t.text != "'" else "\u2032"
            s = '<mo lspace="0" rspace="0">/</mo>' if t.text == "/" else f"<mo>{sym}</mo>"
        else:
            s = f"<mtext>{html.escape(t.text)}</mtext>"
        if t.primes:
            s = f"<msup><mrow>{s}</mrow><mo>{chr(0x2032) * t.primes}</mo></msup>"
        if t.sub is not None and t.sup is not None:
            sub, sup = _mathml(t.sub), _mathml(t.sup)
            s = f"<msubsup><mrow>{s}</mrow><mrow>{sub}</mrow><mrow>{sup}</mrow></msubsup>"
        elif t.sub is not None:
            s = f"<msub><mrow>{s}</mrow><mrow>{_mathml(t.sub)}</mrow></msub>"
        elif t.sup is not None:
            s = f"<msup><mrow>{s}</mrow><mrow>{_mathml(t.sup)}</mrow></msup>"
        out.append(s)
    return "".join(out)


def math_latex(text: str) -> str:
    """``text``, all of it maths, as LaTeX for math mode (``W_j^T W_j`` -> ``W_{j}^{T} W_{j}``)."""
    return _latex(tokens(text))


def math_mathml(text: str) -> str:
    """``text``, all of it maths, as the MathML content of an ``mrow`` (no ``<math>`` element)."""
    return _mathml(tokens(text))


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
        "<": r"\textless{}", ">": r"\textgreater{}"}  # fmt: skip


def tex_escape(s: str) -> str:
    """Plain text for LaTeX's text mode: its ten special characters (and < >) escaped."""
    return "".join(_TEX.get(ch, ch) for ch in s)


def _sub_text(sub: list[Tok]) -> str:
    """A subscript in text: "_word" for one plain word (a snake_case name), else "_{...}"."""
    if len(sub) == 1 and sub[0].kind in ("word", "num") and not (sub[0].sub or sub[0].sup):
        return "_" + sub[0].text
    return f"_{{{_text(sub)}}}"


def _text(toks: list[Tok]) -> str:
    return "".join(
        t.text
        + "'" * t.primes
        + (_sub_text(t.sub) if t.sub is not None else "")
        + (f"^{{{_text(t.sup)}}}" if t.sup is not None else "")
        for t in toks
    )


def prose_latex(text: str) -> str:
    """Prose for LaTeX's text mode, its maths inline as ``$...$``."""
    return "".join(f"${_latex(toks)}$" if m else tex_escape(_text(toks)) for m, toks in spans(text))


def prose_html(text: str) -> str:
    """Prose as HTML, its maths inline as MathML (``<math>`` elements, no script needed)."""
    return "".join(
        f"<math>{_mathml(toks)}</math>" if m else html.escape(_text(toks), quote=False)
        for m, toks in spans(text)
    )


_MD = str.maketrans({"|": r"\|", "*": r"\*", "`": r"\`", "<": "&lt;", ">": "&gt;"})


def prose_markdown(text: str) -> str:
    """Prose for GitHub Markdown, its maths inline as ``$...$`` (GitHub renders it)."""
    return "".join(
        f"${_latex(toks)}$" if m else _text(toks).translate(_MD) for m, toks in spans(text)
    )
