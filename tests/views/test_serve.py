"""How `make app` configures Voila, without starting it (the browser tests start it)."""

from __future__ import annotations

from pathlib import Path

from tierlab.views import serve

TEMPLATE = Path(serve.__file__).resolve().parents[2] / "notebooks" / "app" / "share" / "voila" / "templates" / "tierlab"


def test_the_page_config_points_mathjax_at_the_templates_no_op_under_the_base_url():
    for base in ("/", "/prefix/"):
        config = serve.no_mathjax_page_config({"baseUrl": base, "appVersion": "x"}, base_url=base, log=None)
        assert config["appVersion"] == "x"  # everything else kept
        assert config["fullMathjaxUrl"] == f"{base}voila/templates/tierlab/static/no-mathjax.js"
        # Voila's frontend loads MathJax 3 at start-up when both are the string "null"
        assert "null" not in (config["fullMathjaxUrl"], config["mathjaxConfig"])


def test_the_no_op_mathjax_ships_with_the_template_and_has_the_api_the_frontend_calls():
    js = (TEMPLATE / "static" / "no-mathjax.js").read_text()
    for name in ("window.MathJax", "Hub", "Config", "Configured", "Queue", "StartupHook", "resetEquationNumbers"):
        assert name in js


def test_the_pool_refills_after_a_delay_and_the_page_keeps_its_guards():
    argv = serve.voila_argv(Path("lab.ipynb"), port=8866, token="t")
    assert f"--VoilaKernelManager.fill_delay={serve.POOL_REFILL_DELAY_S:g}" in argv
    assert serve.POOL_REFILL_DELAY_S > 1  # Voila's default, which competed with the page it served
    assert {"--preheat_kernel=True", "--pool_size=1", "--token=t", "--Voila.ip=127.0.0.1"} <= set(argv)
    assert f"--MappingKernelManager.cull_idle_timeout={serve.CULL_IDLE_S}" in argv
