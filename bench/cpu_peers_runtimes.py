"""The runtimes bench/cpu_peers.py times, each given its fastest I/O, and what each
one reports about the settings it actually runs with.

What one timed call is, per runtime (`run()` below; nothing else is inside the
timed loop):

  espcn        espcn_process_plane() through ctypes on 8-bit planes: decode,
               network, shuffle, residual, encode, into a preallocated output
               plane. End to end: more work than the peers' call.
  onnxruntime  InferenceSession.run_with_iobinding() on an IOBinding whose
               input and output are OrtValues wrapping preallocated float32
               numpy arrays (no copy: ORT reads and writes those buffers). The
               float input is prepared once, outside the loop; no encode.
  openvino     InferRequest.infer(share_inputs=True, share_outputs=True) on a
               request created once, its input and output tensors bound
               (set_input_tensor / set_output_tensor) to preallocated float32
               numpy arrays with shared memory; the call itself passes no
               data, so Python copies nothing. No decode, no encode.

The correctness checks read each peer's output from the bound output array, so
they also show that the runtime wrote into it.

Settings: `setting` "matched" is what espcn runs (fp32; OpenVINO
INFERENCE_PRECISION_HINT=f32, one stream, latency mode; ONNX Runtime
sequential, all graph optimisations); "defaults" is the runtime's own
defaults for everything except the thread count, which every runtime gets the
same (a thread count of 0 would let a peer take every core of a larger
machine while espcn has --threads). On CPUs with AVX512-BF16 or AMX,
OpenVINO's default precision is bf16; ONNX Runtime's CPU provider computes
in fp32 either way.
"""
from __future__ import annotations

import ctypes
import glob
import os
import tempfile
from collections import Counter

# --- libespcn through ctypes -------------------------------------------------

PRECISIONS = {"auto": 0, "fp32": 1, "fp16": 2, "bf16": 3}  # espcn.h's espcn_precision
PRECISION_NAMES = {v: k for k, v in PRECISIONS.items()}
BACKENDS = {"reference": 1, "onednn": 2, "cpu-fast": 4}  # espcn.h's espcn_backend


class EspcnPlane(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("stride", ctypes.c_ssize_t), ("width", ctypes.c_int),
                ("height", ctypes.c_int), ("bit_depth", ctypes.c_int), ("shift", ctypes.c_int)]


LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
CANCEL_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class EspcnParams(ctypes.Structure):
    # espcn.h's espcn_params, in order; the trailing zero bytes stand for any
    # field a newer header appends (zero is every field's default).
    _fields_ = [("model_path", ctypes.c_char_p), ("model_data", ctypes.c_void_p),
                ("model_size", ctypes.c_size_t), ("backend", ctypes.c_int), ("threads", ctypes.c_int),
                ("device", ctypes.c_int), ("log_callback", LOG_FN), ("log_opaque", ctypes.c_void_p),
                ("log_level", ctypes.c_int), ("precision", ctypes.c_int),
                ("cuda_use_current_context", ctypes.c_int), ("model", ctypes.c_void_p),
                ("memory_budget", ctypes.c_size_t), ("cancel_callback", CANCEL_FN),
                ("cancel_opaque", ctypes.c_void_p), ("_reserved", ctypes.c_char * 256)]


class EspcnModelInfo(ctypes.Structure):
    # espcn.h's espcn_model_info, in order, with room for appended fields.
    _fields_ = [("name", ctypes.c_char_p), ("scale", ctypes.c_int), ("in_channels", ctypes.c_int),
                ("out_channels", ctypes.c_int), ("num_convs", ctypes.c_int),
                ("receptive_radius", ctypes.c_int), ("macs_per_lr_pixel", ctypes.c_double),
                ("upsampler", ctypes.c_int), ("backend", ctypes.c_int), ("precision", ctypes.c_int),
                ("_reserved", ctypes.c_char * 256)]


def load_libespcn(build: str):
    """libespcn.so of a build directory: lib/, else the first lib*/ that has it (a
    CMAKE_INSTALL_LIBDIR such as lib/x86_64-linux-gnu)."""
    path = os.path.join(build, "lib", "libespcn.so")
    if not os.path.exists(path):
        found = sorted(glob.glob(os.path.join(build, "lib*", "**", "libespcn.so"), recursive=True))
        if not found:
            raise SystemExit(f"cpu_peers: {path} not found; build first (cmake --build {build})")
        path = found[0]
    lib = ctypes.CDLL(path)
    lib.espcn_create.argtypes = [ctypes.POINTER(EspcnParams), ctypes.POINTER(ctypes.c_void_p)]
    lib.espcn_process_plane.argtypes = [ctypes.c_void_p, ctypes.POINTER(EspcnPlane), ctypes.POINTER(EspcnPlane)]
    lib.espcn_get_model_info.argtypes = [ctypes.c_void_p, ctypes.POINTER(EspcnModelInfo)]
    lib.espcn_destroy.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    lib.espcn_last_error.restype = ctypes.c_char_p
    if hasattr(lib, "espcn_backend_details"):
        lib.espcn_backend_details.argtypes = [ctypes.c_void_p]
        lib.espcn_backend_details.restype = ctypes.c_char_p
    lib.espcn_version.restype = ctypes.c_char_p
    return lib, path


class Espcn:
    """One libespcn context, processing 8-bit planes. `precision` is what the
    context reports it computes in (espcn_get_model_info), not what was asked."""

    def __init__(self, lib, model: str, backend: str, threads: int, isa: str | None = None,
                 precision: str = "fp32"):
        self.lib = lib
        self.ctx = None
        self.messages = []
        self._log = LOG_FN(lambda _o, _lvl, msg: self.messages.append(msg.decode()))
        p = EspcnParams()
        p.model_path = model.encode()
        p.backend = BACKENDS[backend]
        p.threads = threads
        p.log_callback = self._log
        p.log_level = 3  # debug: the cpu-fast backend names its kernels
        p.precision = PRECISIONS[precision]
        # A forced ISA: that instruction set's best kernels on every layer,
        # not measured (ESPCN_CPU_TUNE=0), as cpu-fast ran before its planner.
        forced = {"ESPCN_CPU_ISA": isa, "ESPCN_CPU_TUNE": "0" if isa else None}
        saved = {k: os.environ.get(k) for k in forced}
        for k, v in forced.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        ctx = ctypes.c_void_p()
        status = lib.espcn_create(ctypes.byref(p), ctypes.byref(ctx))
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if status != 0:
            raise RuntimeError(f"espcn_create({backend}, precision {precision}): "
                               f"{lib.espcn_last_error().decode()}")
        self.ctx = ctx
        info = EspcnModelInfo()
        if lib.espcn_get_model_info(self.ctx, ctypes.byref(info)) != 0:
            self.close()
            raise RuntimeError(f"espcn_get_model_info: {lib.espcn_last_error().decode()}")
        self.precision = PRECISION_NAMES.get(info.precision, f"enum {info.precision}")
        self.kernels = next((m for m in self.messages if m.startswith("cpu-fast: ") and "kernels" in m), "")

    def run(self, lr, hr) -> None:
        src = EspcnPlane(lr.ctypes.data, lr.strides[0], lr.shape[1], lr.shape[0], 8, 0)
        dst = EspcnPlane(hr.ctypes.data, hr.strides[0], hr.shape[1], hr.shape[0], 8, 0)
        if self.lib.espcn_process_plane(self.ctx, ctypes.byref(src), ctypes.byref(dst)) != 0:
            raise RuntimeError(self.lib.espcn_last_error().decode())

    def details(self) -> str:
        if not self.ctx or not hasattr(self.lib, "espcn_backend_details"):
            return ""
        return (self.lib.espcn_backend_details(self.ctx) or b"").decode()

    def settled(self) -> bool:
        """Whether cpu-fast's planner has chosen its kernels for the size run last."""
        return "measuring its candidates" not in self.details()

    def close(self) -> None:
        if self.ctx:
            self.lib.espcn_destroy(ctypes.byref(self.ctx))
            self.ctx = None


# --- the peers -----------------------------------------------------------------

SETTINGS = ("matched", "defaults")


class OrtPeer:
    """ONNX Runtime's CPU provider on one graph at one input size, through an IOBinding."""

    engine = "onnxruntime"

    def __init__(self, model_bytes: bytes, threads: int, setting: str, x, out_shape):
        import numpy as np
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        if setting == "matched":
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
        self.x = x
        self.out = np.zeros(out_shape, np.float32)
        self.binding = self.session.io_binding()
        self.binding.bind_ortvalue_input(self.session.get_inputs()[0].name, ort.OrtValue.ortvalue_from_numpy(x))
        self.binding.bind_ortvalue_output(self.session.get_outputs()[0].name,
                                          ort.OrtValue.ortvalue_from_numpy(self.out))
        o = self.session.get_session_options()
        self.precision = "fp32"  # the CPU provider's only float path on x86
        self.settings = (f"intra_op_num_threads {o.intra_op_num_threads}, inter_op_num_threads "
                         f"{o.inter_op_num_threads}, execution_mode {o.execution_mode.name}, "
                         f"graph_optimization_level {o.graph_optimization_level.name}, providers "
                         f"{','.join(self.session.get_providers())}; computes in f32")

    def run(self):
        self.session.run_with_iobinding(self.binding)
        return self.out


class OpenVinoPeer:
    """OpenVINO's CPU plugin on one graph at one input size, tensors bound to our arrays."""

    engine = "openvino"
    PROPERTIES = ("INFERENCE_NUM_THREADS", "INFERENCE_PRECISION_HINT", "EXECUTION_MODE_HINT",
                  "PERFORMANCE_HINT", "NUM_STREAMS", "ENABLE_CPU_PINNING", "ENABLE_HYPER_THREADING")

    def __init__(self, model_bytes: bytes, threads: int, setting: str, x, out_shape):
        import numpy as np
        import openvino as ov
        core = ov.Core()
        with tempfile.NamedTemporaryFile(suffix=".onnx", delete=False) as f:
            f.write(model_bytes)
            path = f.name
        try:
            model = core.read_model(path)
        finally:
            os.unlink(path)
        config = {"INFERENCE_NUM_THREADS": threads}
        if setting == "matched":
            # fp32 as espcn (OpenVINO picks bf16 on CPUs that have it), one
            # stream of `threads` threads, latency mode: one frame at a time.
            config.update({"NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"})
        self.compiled = core.compile_model(model, "CPU", config)
        self.request = self.compiled.create_infer_request()
        self.x = x
        self.out = np.zeros(out_shape, np.float32)
        self.request.set_input_tensor(ov.Tensor(x, shared_memory=True))
        self.request.set_output_tensor(ov.Tensor(self.out, shared_memory=True))
        props = {}
        for name in self.PROPERTIES:
            try:
                props[name] = _ov_text(self.compiled.get_property(name))
            except RuntimeError as e:  # a property this version does not know
                props[name] = f"? ({str(e).splitlines()[0][:60]})"
        # What the convolutions actually ran in, and with which primitive.
        convs = Counter()
        for op in self.compiled.get_runtime_model().get_ordered_ops():
            info = op.get_rt_info()
            if "layerType" in info and info["layerType"].astype(str) == "Convolution":
                convs[(info["runtimePrecision"].astype(str) if "runtimePrecision" in info else "?",
                       info["primitiveType"].astype(str) if "primitiveType" in info else "?")] += 1
        ran = sorted({p for p, _ in convs})
        self.precision = "+".join({"f32": "fp32", "f16": "fp16"}.get(p, p) for p in ran) if ran else "?"
        self.settings = (", ".join(f"{k} {v}" for k, v in props.items()) + "; convolutions ran: " +
                         ", ".join(f"{n} x {p} ({prim})" for (p, prim), n in sorted(convs.items())))

    def run(self):
        self.request.infer(share_inputs=True, share_outputs=True)
        return self.out


def _ov_text(value) -> str:
    """OpenVINO property values as short text: element types as f32/bf16/f16, enums by name."""
    if hasattr(value, "get_type_name"):  # openvino.Type
        return value.get_type_name()
    return getattr(value, "name", None) or str(value)


PEERS = {"onnxruntime": OrtPeer, "openvino": OpenVinoPeer}
