"""Hit ratio of the cache's eviction policies on a skewed workload (glance.stream.cache).

A catalogue of images with sizes drawn from a heavy-tailed distribution (many small images,
a few large ones, as clouds have) is read with Zipf popularity through a real ImageCache on
a temporary directory, once per policy, with the same request sequence. Reports the hit
ratio (requests served from the cache) and the byte hit ratio (bytes served from it).

    .venv/bin/python tools/bench/eviction.py [--images 300] [--requests 6000] [--json F]
"""

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile

import eventlet

eventlet.monkey_patch()

from glance.stream import cache as image_cache  # noqa: E402

KiB = 1024


def catalogue(n, rng):
    images = []
    for i in range(n):
        # Pareto sizes: median ~24 KiB, a tail up to a few MiB (scaled-down cloud images)
        size = int(min(16 * KiB * rng.paretovariate(1.2), 3 * 1024 * KiB))
        seed = ('image-%d' % i).encode()
        data = (hashlib.sha512(seed).digest() * (size // 64 + 1))[:size]
        images.append(({'id': 'img-%05d' % i, 'size': size, 'os_hash_algo': 'sha512',
                        'os_hash_value': hashlib.sha512(data).hexdigest()}, data))
    return images


def zipf_sequence(n_images, n_requests, s, rng):
    weights = [1.0 / (rank + 1) ** s for rank in range(n_images)]
    order = list(range(n_images))
    rng.shuffle(order)  # popularity independent of size
    return [order[i] for i in rng.choices(range(n_images), weights, k=n_requests)]


def run(policy, images, sequence, max_size):
    directory = tempfile.mkdtemp(prefix='glance-evict-')
    try:
        cache = image_cache.ImageCache(directory, max_size, max_image_share=0.5,
                                       poll_interval=0.0005, policy=policy)
        hits = hit_bytes = total_bytes = 0
        for index in sequence:
            image, data = images[index]
            source, body = cache.read(image, lambda img, data=data: iter([data]))
            if body is not None:
                for _ in body:
                    pass
            total_bytes += image['size']
            if source == 'hit':
                hits += 1
                hit_bytes += image['size']
        cache.flush_hits()
        return {'policy': policy, 'hit_ratio': round(hits / len(sequence), 3),
                'byte_hit_ratio': round(hit_bytes / total_bytes, 3),
                'evictions': cache.metrics()['evictions']}
    finally:
        shutil.rmtree(directory, True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--images', type=int, default=300)
    parser.add_argument('--requests', type=int, default=3000)
    parser.add_argument('--zipf', type=float, default=0.9)
    parser.add_argument('--cache-share', type=float, default=0.15,
                        help='max_size as a share of the catalogue\'s bytes')
    parser.add_argument('--json', help='write the results here')
    args = parser.parse_args(argv)
    rng = random.Random(42)
    images = catalogue(args.images, rng)
    sequence = zipf_sequence(args.images, args.requests, args.zipf, rng)
    total = sum(image['size'] for image, _ in images)
    max_size = int(total * args.cache_share)
    results = [run(policy, images, sequence, max_size) for policy in sorted(image_cache.POLICIES)]
    print('%d images (%.1f MiB), %d requests, Zipf s=%.2f, cache %.1f MiB (%.0f%%)' % (
        args.images, total / 1024 / KiB, args.requests, args.zipf, max_size / 1024 / KiB,
        args.cache_share * 100))
    for r in results:
        print('  %-5s hit ratio %.3f   byte hit ratio %.3f   evictions %d' % (
            r['policy'], r['hit_ratio'], r['byte_hit_ratio'], r['evictions']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    sys.exit(main() and 0)
