"""Image measurements (noise, blur, exposure, JPEG blocking) shared by the analysis (app.core.metrics) and
the ops: they live below both so that the ops can read a photo's noise or blur without importing the
metrics package, which imports the op registry (Auto)."""
