// Tiny static programs packed into local images (no registry here): the pod sandbox "pause"
// process and a smoke-test program. Standard library only.
module mapreduce-k8s/ci/cluster/tinyimg

go 1.24
