/* tierlab: the app page shows no maths. Voila's frontend asks for this file as its MathJax 2
   (see tierlab/views/serve.py); this MathJax typesets nothing, so the page never loads or runs
   MathJax 3 (16 scripts, about 1 MB) on its way to being interactive. A "$" stays a dollar sign. */
window.MathJax = {
  Hub: {Config: function () {}, Configured: function () {}, Queue: function () {}, Register: {StartupHook: function () {}}},
  Ajax: {},
  InputJax: {TeX: {resetEquationNumbers: function () {}}}
};
