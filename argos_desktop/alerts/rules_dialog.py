"""Alert rules of the signed-in scope (those inherited from above it marked so), and a form
to put a new threshold, offline or overdue rule on a node."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from argos_core.sample_fields import SAMPLE_METRICS
from argos_core.services.alert_dto import RuleInfo
from argos_desktop.admin.record_table_model import Column, RecordTableModel
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool


def describe(rule: RuleInfo) -> str:
    if rule.condition != "threshold":
        text = rule.condition
    else:
        text = f"{rule.metric} {rule.comparison} {rule.threshold:g}"
        if rule.recover_at is not None:
            text += f", recovers at {rule.recover_at:g}"
    if rule.for_s:
        return f"{text} for {rule.for_s} s"
    return f"{text} for {rule.samples} samples" if rule.samples > 1 else text


COLUMNS: tuple[Column[RuleInfo], ...] = (
    Column("Node", lambda r: f"{r.node_kind} {r.node}"),
    Column("Rule", describe),
    Column("Severity", lambda r: r.severity.capitalize()),
    Column("Enabled", lambda r: "yes" if r.enabled else "no"),
    Column("Set", lambda r: "above your scope" if r.inherited else "here"),
)


class RulesDialog(QDialog):
    loaded = Signal()
    created = Signal(object)  # RuleInfo

    def __init__(self, session: ConsoleSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Alert rules — Argos")
        self.resize(820, 480)
        self._session = session
        self.rules: RecordTableModel[RuleInfo] = RecordTableModel(COLUMNS, self)
        self.table = QTableView(objectName="ruleTable")
        self.table.setModel(self.rules)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

        self.node_edit = QLineEdit(objectName="ruleNode", placeholderText="org id or agent id")
        self.condition_box = QComboBox(objectName="ruleCondition")
        self.condition_box.addItems(["threshold", "offline", "overdue"])
        self.metric_box = QComboBox(objectName="ruleMetric")
        self.metric_box.addItems(list(SAMPLE_METRICS))
        self.comparison_box = QComboBox(objectName="ruleComparison")
        self.comparison_box.addItems(["above", "below"])
        self.threshold_spin = self._number(90.0)
        self.recover_edit = QLineEdit(objectName="ruleRecover", placeholderText="optional")
        self.for_spin = QSpinBox(objectName="ruleFor", maximum=7 * 86400, suffix=" s")
        self.severity_box = QComboBox(objectName="ruleSeverity")
        self.severity_box.addItems(["warning", "critical"])
        self.create_button = QPushButton("Create rule", objectName="ruleCreate")
        self.message = QLabel(objectName="ruleMessage", wordWrap=True)

        form = QFormLayout()
        form.addRow("On node", self.node_edit)
        form.addRow("Condition", self.condition_box)
        metric = QHBoxLayout()
        for widget in (self.metric_box, self.comparison_box, self.threshold_spin):
            metric.addWidget(widget)
        form.addRow("Metric", metric)
        form.addRow("Recovers at", self.recover_edit)
        form.addRow("For at least", self.for_spin)
        form.addRow("Severity", self.severity_box)
        self.form = QWidget(objectName="ruleForm")
        self.form.setLayout(form)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.form)
        layout.addWidget(self.create_button)
        layout.addWidget(self.message)
        can_write = session.identity.can_write
        self.form.setVisible(can_write)
        self.create_button.setVisible(can_write)

        self.condition_box.currentTextChanged.connect(self._condition_changed)
        self.create_button.clicked.connect(self.create)
        self.reload()

    def _number(self, value: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(objectName="ruleThreshold", decimals=2)
        spin.setRange(-1e15, 1e15)
        spin.setValue(value)
        return spin

    def _condition_changed(self, condition: str) -> None:
        threshold = condition == "threshold"
        for widget in (
            self.metric_box,
            self.comparison_box,
            self.threshold_spin,
            self.recover_edit,
        ):
            widget.setEnabled(threshold)

    def reload(self) -> None:
        backend = self._session.backend
        run_in_pool(backend.list_rules, self._shown, self._failed, context=self)

    def create(self) -> None:
        threshold = self.condition_box.currentText() == "threshold"
        recover = self.recover_edit.text().strip()
        try:
            recover_at = float(recover) if threshold and recover else None
        except ValueError:
            self.message.setText(f"'Recovers at' must be a number, not '{recover}'.")
            return
        fields = {
            "severity": self.severity_box.currentText(),
            "condition": self.condition_box.currentText(),
            "metric": self.metric_box.currentText() if threshold else None,
            "comparison": self.comparison_box.currentText() if threshold else None,
            "threshold": self.threshold_spin.value() if threshold else None,
            "recover_at": recover_at,
            "for_s": self.for_spin.value(),
        }
        node, backend = self.node_edit.text().strip(), self._session.backend
        self.create_button.setEnabled(False)
        run_in_pool(
            lambda: backend.create_rule(node, **fields), self._created, self._failed, context=self
        )

    def _created(self, rule: RuleInfo) -> None:
        self.create_button.setEnabled(True)
        self.message.setText(f"Rule {rule.id} created: {describe(rule)}")
        self.created.emit(rule)
        self.reload()

    def _shown(self, rules: list[RuleInfo]) -> None:
        self.rules.set_rows(rules)
        self.loaded.emit()

    def _failed(self, exc: Exception) -> None:
        self.create_button.setEnabled(True)
        self.message.setText(user_message(exc))
        self.loaded.emit()
