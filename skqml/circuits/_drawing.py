"""Plain-text circuit drawings."""

from __future__ import annotations

from ._circuit import Circuit, Operation

_CONTROL_SYMBOLS = {"cnot": "X", "ccx": "X", "cy": "Y", "ch": "H"}


def _labels(op: Operation) -> dict[int, str]:
    """Text per qubit of one gate."""
    spec = op.spec
    args = ", ".join(str(p) for p in op.params)
    name = op.name.upper()
    if op.name in ("cz",):
        return {q: "●" for q in op.qubits}
    if op.name == "swap":
        return {q: "x" for q in op.qubits}
    if spec.n_controls:
        target = _CONTROL_SYMBOLS.get(op.name, f"{spec.target.upper()}({args})")
        labels = {q: "●" for q in op.qubits[: spec.n_controls]}
        labels.update({q: target for q in op.qubits[spec.n_controls :]})
        return labels
    head = f"{name}({args})" if args else name
    if len(op.qubits) == 1:
        return {op.qubits[0]: head}
    return {q: f"{head}" if i == 0 else f"{name}" for i, q in enumerate(op.qubits)}


def draw_text(circuit: Circuit) -> str:
    """One row per qubit, gates packed into columns; vertical bars join multi-qubit gates."""
    n = circuit.n_qubits
    columns: list[dict[int, str]] = []
    spans: list[list[tuple[int, int]]] = []
    level = [0] * n
    for op in circuit.operations:
        lo, hi = min(op.qubits), max(op.qubits)
        col = max(level[q] for q in range(lo, hi + 1))
        if col == len(columns):
            columns.append({})
            spans.append([])
        columns[col].update(_labels(op))
        if hi > lo:
            spans[col].append((lo, hi))
        for q in range(lo, hi + 1):
            level[q] = col + 1
    width = len(f"q{n - 1}")
    rows = [f"q{q}:".ljust(width + 1) + " ─" for q in range(n)]
    gaps = [" " * (width + 3) for _ in range(n)]
    for col, labels in enumerate(columns):
        w = max((len(s) for s in labels.values()), default=1)
        joined = {q for lo, hi in spans[col] for q in range(lo, hi)}
        inside = {q for lo, hi in spans[col] for q in range(lo + 1, hi)}
        for q in range(n):
            text = labels.get(q, "│" if q in inside else "")
            rows[q] += text.center(w, "─") + "──"
            gaps[q] += ("│" if q in joined else " ").center(w) + "  "
    lines = []
    for q in range(n):
        lines.append(rows[q].rstrip())
        if q < n - 1:
            lines.append(gaps[q].rstrip())
    return "\n".join(line for line in lines)
