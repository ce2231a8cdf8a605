#ARGS weight:float32[256],bias:float32[256],x:float32[32,256],eps:float
import torch
import torch.nn.functional as F
import deuteron
import deuteron.language as hl


@deuteron.kernel()
def welford(weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor, eps: float = 1e-05) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        acc_cnt = torch.zeros_like(x[tile_m, 0], dtype=torch.float32)
        acc_mean = torch.zeros_like(acc_cnt)
        acc_m2 = torch.zeros_like(acc_cnt)
        for tile_n in hl.tile(n):
            chunk = x[tile_m, tile_n]
            Tn = chunk.size(-1)
            sum_x = torch.sum(chunk, dim=-1)
            sum_x2 = torch.sum(chunk * chunk, dim=-1)
            mean_c = sum_x / Tn
            Mc = sum_x2 - sum_x * mean_c
            delta = mean_c - acc_mean
            new_cnt = acc_cnt + Tn
            new_mean = acc_mean + delta * (Tn / new_cnt)
            new_m2 = acc_m2 + Mc + delta * delta * (acc_cnt * Tn / new_cnt)
            acc_cnt, acc_mean, acc_m2 = new_cnt, new_mean, new_m2
        rstd_tile = torch.rsqrt(acc_m2 / acc_cnt + eps)
        mean_col = acc_mean[:, None]
        rstd_col = rstd_tile[:, None]
        for tile_n in hl.tile(n):
            xi_chunk = x[tile_m, tile_n]
            w_chunk = weight[tile_n][None, :]
            b_chunk = bias[tile_n][None, :]
            y = (xi_chunk - mean_col) * rstd_col
            y = y * w_chunk + b_chunk
            out[tile_m, tile_n] = y.to(x.dtype)
    return out
