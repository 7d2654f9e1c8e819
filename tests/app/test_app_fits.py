"""The window fits a 1280 x 800 screen: no page asks for more (long labels in the speech-feature
and mouth choices, the advice line and a two-line export message included)."""

from __future__ import annotations


def test_every_page_fits_a_1280_by_800_screen(window, prepared_project):
    window.session.open_project(prepared_project.root)
    dub = window.dub_page
    dub.export_progress.show_message("Wrote /a/rather/long/folder/name/for/the/export/lesson-1-dubbed.mp4 "
                                     "(250 frames, 10.00 s, 1920x1080 at 25.000 fps, sample renderer)\n"
                                     "Per frame: expression 1.0 ms, raster 5.0 ms", done=True)
    dub.advice_label.setText("Measured best for this project: Own mouth (sample-based) (mouth PSNR 32.4 dB, "
                             "mouth sharpness 0.97 of the video's).")
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 780, hint
    for i in range(window.pages.count()):
        page = window.pages.widget(i).minimumSizeHint()
        assert page.width() <= 1240 and page.height() <= 720, (type(window.pages.widget(i)).__name__, page)
