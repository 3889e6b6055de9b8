"""Alert rules of the signed-in scope (those inherited from above it marked so), a form to
put a new threshold, offline or overdue rule on a node, and for the selected rule: switch it
off or on (a rule of the scope), or override it for the subtree of a node below its own
(switched off there, or with another threshold or severity)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
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
    Column("Set", lambda r: where_set(r)),
)


def where_set(rule: RuleInfo) -> str:
    text = "above your scope" if rule.inherited else "here"
    return f"{text}, overrides rule {rule.overrides_id}" if rule.overrides_id else text


def optional_number(text: str, label: str) -> float | None:
    text = text.strip()
    try:
        return float(text) if text else None
    except ValueError:
        raise ValueError(f"'{label}' must be a number, not '{text}'.") from None


class RulesDialog(QDialog):
    loaded = Signal()
    created = Signal(object)  # RuleInfo
    changed = Signal(object)  # RuleInfo: an override made, or a rule switched off or on

    def __init__(self, session: ConsoleSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Alert rules — Argos")
        self.resize(1040, 640)
        self._session = session
        self.rules: RecordTableModel[RuleInfo] = RecordTableModel(COLUMNS, self)
        self.table = QTableView(objectName="ruleTable")
        self.table.setModel(self.rules)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
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
        self.switch_button = QPushButton("Switch off", objectName="ruleSwitch", enabled=False)
        self.override_node = QLineEdit(
            objectName="overrideNode", placeholderText="org id or agent id below the rule's node"
        )
        self.override_off = QCheckBox("Switched off there", objectName="overrideOff")
        self.override_threshold = QLineEdit(
            objectName="overrideThreshold", placeholderText="the rule's"
        )
        self.override_recover = QLineEdit(
            objectName="overrideRecover", placeholderText="the rule's"
        )
        self.override_severity = QComboBox(objectName="overrideSeverity")
        for label, severity in (
            ("the rule's", None),
            ("warning", "warning"),
            ("critical", "critical"),
        ):
            self.override_severity.addItem(label, severity)
        self.override_button = QPushButton(
            "Override selected rule", objectName="overrideCreate", enabled=False
        )

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
        form.addRow(self.create_button)
        self.form = QGroupBox("New rule", objectName="ruleForm")
        self.form.setLayout(form)
        override = QFormLayout()
        override.addRow("Under node", self.override_node)
        override.addRow("", self.override_off)
        override.addRow("Threshold there", self.override_threshold)
        override.addRow("Recovers there at", self.override_recover)
        override.addRow("Severity there", self.override_severity)
        override.addRow(self.override_button)
        self.override_form = QGroupBox(
            "The selected rule, for a subtree below its node", objectName="overrideForm"
        )
        self.override_form.setLayout(override)
        selected = QHBoxLayout()
        selected.addWidget(self.switch_button)
        selected.addStretch(1)
        forms = QHBoxLayout()
        forms.addWidget(self.override_form, 1)
        forms.addWidget(self.form, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(selected)
        layout.addLayout(forms)
        layout.addWidget(self.message)
        can_write = session.identity.can_write
        for widget in (
            self.form,
            self.create_button,
            self.override_form,
            self.override_button,
            self.switch_button,
        ):
            widget.setVisible(can_write)

        self.condition_box.currentTextChanged.connect(self._condition_changed)
        self.create_button.clicked.connect(self.create)
        self.switch_button.clicked.connect(self.switch_selected)
        self.override_button.clicked.connect(self.override_selected)
        self.override_off.toggled.connect(self._selection_changed)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
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

    def selected(self) -> RuleInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rules.record(rows[0].row()) if rows else None

    def switch_selected(self) -> None:
        """Switch the selected rule of the scope off (or back on) everywhere below it."""
        rule = self.selected()
        if rule is None or rule.inherited:
            return
        backend, enabled = self._session.backend, not rule.enabled
        self.switch_button.setEnabled(False)
        run_in_pool(
            lambda: backend.set_rule_enabled(rule.id, enabled),
            self._changed,
            self._failed,
            context=self,
        )

    def override_selected(self) -> None:
        rule = self.selected()
        if rule is None:
            return
        off = self.override_off.isChecked()
        fields: dict = {"enabled": not off}
        if not off and rule.condition == "threshold":
            try:
                fields["threshold"] = optional_number(
                    self.override_threshold.text(), "Threshold there"
                )
                fields["recover_at"] = optional_number(
                    self.override_recover.text(), "Recovers there at"
                )
            except ValueError as exc:
                self.message.setText(str(exc))
                return
        if not off:
            fields["severity"] = self.override_severity.currentData()
        node, backend = self.override_node.text().strip(), self._session.backend
        self.override_button.setEnabled(False)
        run_in_pool(
            lambda: backend.override_rule(rule.id, node, **fields),
            self._changed,
            self._failed,
            context=self,
        )

    def _changed(self, rule: RuleInfo) -> None:
        if rule.overrides_id:
            state = "switched off" if not rule.enabled else describe(rule)
            text = f"Rule {rule.overrides_id} overridden under {rule.node}: {state}"
        else:
            text = f"Rule {rule.id} switched {'on' if rule.enabled else 'off'}"
        self.message.setText(text)
        self.changed.emit(rule)
        self.reload()

    def _selection_changed(self, *_: object) -> None:
        rule = self.selected()
        self.switch_button.setEnabled(rule is not None and not rule.inherited)
        self.switch_button.setText("Switch on" if rule and not rule.enabled else "Switch off")
        self.override_button.setEnabled(rule is not None)
        off = self.override_off.isChecked()
        threshold = rule is not None and rule.condition == "threshold" and not off
        for widget in (self.override_threshold, self.override_recover):
            widget.setEnabled(threshold)
        self.override_severity.setEnabled(not off)

    def _created(self, rule: RuleInfo) -> None:
        self.create_button.setEnabled(True)
        self.message.setText(f"Rule {rule.id} created: {describe(rule)}")
        self.created.emit(rule)
        self.reload()

    def _shown(self, rules: list[RuleInfo]) -> None:
        self.rules.set_rows(rules)
        self._selection_changed()
        self.loaded.emit()

    def _failed(self, exc: Exception) -> None:
        self.create_button.setEnabled(True)
        self._selection_changed()
        self.message.setText(user_message(exc))
        self.loaded.emit()
