/**
 * The native libraries a GPU execution provider needs, found and loaded before onnxruntime asks for them, so a
 * missing one is named in the error instead of onnxruntime's bare "Failed to load shared library".
 *
 * CUDA EP: `libonnxruntime_providers_{shared,cuda}.so` beside the binding's `libonnxruntime.so.1` (onnxruntime
 * loads providers from its own directory) and the CUDA 13 libraries they link against. Those are loaded here by
 * full path from the directories in FLEETCHAT_CUDA_LIBS (`scripts/install-gpu-runtime` fills
 * ~/.cache/fleetchat/gpu-runtime/lib, searched by default) with RTLD_GLOBAL | RTLD_NODELETE: the dynamic linker then
 * resolves the provider's NEEDED entries by soname against them, and no LD_LIBRARY_PATH is needed.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { constants } from 'node:os';

/** CUDA EP dependencies in load order (each after what it links against); `optional` ones are dlopen'ed lazily. */
export const CUDA_LIBRARIES: ReadonlyArray<{ soname: string; optional?: boolean }> = [
  { soname: 'libcudart.so.13' },
  { soname: 'libcublasLt.so.13' },
  { soname: 'libcublas.so.13' },
  { soname: 'libcurand.so.10' },
  { soname: 'libcufft.so.12', optional: true },
  { soname: 'libcudnn.so.9', optional: true },
];

export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

const RTLD_NODELETE = 0x1000; // glibc; not in os.constants.dlopen

/** Where onnxruntime-node's native binding (and so its provider libraries) lives. */
export function bindingDir(): string {
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Where scripts/install-gpu-runtime puts the CUDA libraries and the ort_device addon. */
export function defaultGpuRuntimeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLEETCHAT_GPU_RUNTIME || join(homedir(), '.cache', 'fleetchat', 'gpu-runtime');
}

export function cudaLibraryDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.FLEETCHAT_CUDA_LIBS ?? '').split(':').filter((d) => d !== '');
  return [...fromEnv, join(defaultGpuRuntimeDir(), 'lib')];
}

export interface LoadResult {
  ok: boolean;
  /** One line per library that could not be loaded, with the loader's reason. */
  missing: string[];
  loaded: string[];
}

/** dlopen() through Node: a library that is no Node addon loads, then fails with "did not self-register". */
function dlopen(path: string): string | undefined {
  try {
    process.dlopen({ exports: {} }, path, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE);
    return undefined;
  } catch (err) {
    const message = (err as Error).message;
    return /did not self-register/.test(message) ? undefined : message;
  }
}

function loadOne(soname: string, dirs: string[]): { path?: string; error?: string } {
  for (const dir of dirs) {
    const path = join(dir, soname);
    if (!existsSync(path)) continue;
    const error = dlopen(path);
    return error ? { error } : { path };
  }
  // Not in our directories: the system's search path (LD_LIBRARY_PATH, ld.so.cache, the driver's mounts).
  const error = dlopen(soname);
  return error ? { error } : { path: soname };
}

const NOT_FOUND = /cannot open shared object file/;

/** Loads the driver, the CUDA libraries and checks the provider files; reports every missing piece. */
export function loadCudaRuntime(dirs = cudaLibraryDirs(), binding = bindingDir()): LoadResult {
  const missing: string[] = [];
  const loaded: string[] = [];
  const driver = dlopen('libcuda.so.1');
  if (driver) missing.push(NOT_FOUND.test(driver) ? 'libcuda.so.1 (the NVIDIA driver) not found' : `libcuda.so.1 (the NVIDIA driver): ${driver}`);
  const absent: string[] = [];
  for (const lib of CUDA_LIBRARIES) {
    const r = loadOne(lib.soname, dirs);
    if (r.path) loaded.push(r.path);
    else if (lib.optional) continue;
    else if (!r.error || NOT_FOUND.test(r.error)) absent.push(lib.soname);
    else missing.push(`${lib.soname}: ${r.error}`);
  }
  if (absent.length > 0) missing.push(`${absent.join(', ')} not found in ${dirs.join(', ')} or the system library path`);
  const providers = CUDA_PROVIDER_FILES.filter((file) => !existsSync(join(binding, file)));
  if (providers.length > 0) missing.push(`${providers.join(', ')} not found beside the onnxruntime binding (${binding})`);
  return { ok: missing.length === 0, missing, loaded };
}

/** The Vulkan loader the WebGPU EP (Dawn) needs. */
export function loadVulkanLoader(): LoadResult {
  const error = dlopen('libvulkan.so.1');
  if (!error) return { ok: true, missing: [], loaded: ['libvulkan.so.1'] };
  return { ok: false, missing: [NOT_FOUND.test(error) ? 'libvulkan.so.1 (the Vulkan loader) not found' : `libvulkan.so.1: ${error}`], loaded: [] };
}
