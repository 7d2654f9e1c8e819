"""The app lists the registry's lower-face variants: the Train page the networks it can train, the
Dub page every variant, greyed out (with the reason) where the project cannot dub with it yet."""

from __future__ import annotations

from core import lowerface


def _items(combo):
    model = combo.model()
    return [(combo.itemData(i), model.item(i).isEnabled()) for i in range(combo.count())]


def test_the_pages_list_the_registry(window, prepared_project, tmp_path):
    import shutil

    root = tmp_path / "project"
    shutil.copytree(prepared_project.root, root)
    train = window.train_page.renderer_kind
    assert [data for data, _ in _items(train)] == lowerface.names(trains=True)
    window.start_page.open_project(root)
    dub = window.dub_page.renderer_choice
    # prepared, no network trained: the sample-based lower face and the draft can dub now
    assert _items(dub) == [("sample", True), ("draft", True), ("reference", False), ("paper", False)]
    assert dub.currentData() == lowerface.DEFAULT
    assert "no network is trained" in dub.itemData(2, 3)  # Qt.ToolTipRole: says why
