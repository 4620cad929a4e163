"""Theory beside the map: sharpness (top Hessian eigenvalue) and gradient noise scale."""
