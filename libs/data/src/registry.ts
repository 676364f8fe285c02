/**
 * What is known about each dataset: where it comes from, what its files are called, and the sums that
 * say a copy is the real one. Nothing here touches the disk.
 */

export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export function isDatasetName(value: unknown): value is DatasetName {
  return typeof value === 'string' && (DATASET_NAMES as readonly string[]).includes(value);
}

export interface IdxFile {
  /** Name as published (gzipped); a gunzipped copy without `.gz` is accepted too. */
  name: string;
  /** SHA-256 of the published `.gz`, checked on download. */
  sha256: string;
  /**
   * SHA-256 of the decompressed IDX bytes, checked on load. Checking content rather than the `.gz`
   * accepts a re-compressed or gunzipped copy of the same data (Debian's Fashion-MNIST is one).
   */
  contentSha256: string;
}

interface DatasetSpecBase {
  name: DatasetName;
  /** Environment variable naming a directory that holds the files. */
  envVar: string;
  /** Directories where an OS package installs the files, tried after the environment. */
  systemDirectories: string[];
  /** Directory URL the files (or archive) are downloaded from when nothing local has them. */
  baseUrl: string;
  shape: [h: number, w: number, c: number];
  classNames: string[];
}

export interface IdxDatasetSpec extends DatasetSpecBase {
  format: 'idx';
  files: { trainImages: IdxFile; trainLabels: IdxFile; testImages: IdxFile; testLabels: IdxFile };
}

export interface CifarDatasetSpec extends DatasetSpecBase {
  format: 'cifar';
  /** The one published download; its members are extracted into `batchDirectory`. */
  archive: { name: string; sha256: string };
  batchDirectory: string;
  trainFiles: string[];
  testFiles: string[];
}

export type DatasetSpec = IdxDatasetSpec | CifarDatasetSpec;

const MNIST: IdxDatasetSpec = {
  name: 'mnist',
  format: 'idx',
  envVar: 'MNIST_DIR',
  systemDirectories: [],
  baseUrl: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
  shape: [28, 28, 1],
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  files: {
    trainImages: {
      name: 'train-images-idx3-ubyte.gz',
      sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
      contentSha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
    },
    trainLabels: {
      name: 'train-labels-idx1-ubyte.gz',
      sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
      contentSha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
    },
    testImages: {
      name: 't10k-images-idx3-ubyte.gz',
      sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
      contentSha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
    },
    testLabels: {
      name: 't10k-labels-idx1-ubyte.gz',
      sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
      contentSha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
    },
  },
};

/**
 * `.gz` sums are those of the files Zalando publishes (MD5s as in their README). Debian's
 * `dataset-fashion-mnist` re-compresses them, so its `.gz` files have other sums (train-images
 * b0564c3e…, train-labels 0ae29f65…, t10k-images cc1d090a…, t10k-labels 8d3605d1…) but the same
 * decompressed content, which is what loading checks.
 */
const FASHION_MNIST: IdxDatasetSpec = {
  name: 'fashion-mnist',
  format: 'idx',
  envVar: 'FASHION_MNIST_DIR',
  systemDirectories: ['/usr/share/datasets/fashion-mnist'],
  // Zalando's S3 website endpoint serves plain http only; the repository copy is the same bytes over https.
  baseUrl: 'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
  shape: [28, 28, 1],
  classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  files: {
    trainImages: {
      name: 'train-images-idx3-ubyte.gz',
      sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
      contentSha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    },
    trainLabels: {
      name: 'train-labels-idx1-ubyte.gz',
      sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
      contentSha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    },
    testImages: {
      name: 't10k-images-idx3-ubyte.gz',
      sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
      contentSha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    },
    testLabels: {
      name: 't10k-labels-idx1-ubyte.gz',
      sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
      contentSha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
    },
  },
};

/** Only the archive's sum is published; the sums of the extracted batches are not recorded here. */
const CIFAR10: CifarDatasetSpec = {
  name: 'cifar10',
  format: 'cifar',
  envVar: 'CIFAR10_DIR',
  systemDirectories: [],
  baseUrl: 'https://www.cs.toronto.edu/~kriz/',
  shape: [32, 32, 3],
  classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
  archive: {
    name: 'cifar-10-binary.tar.gz',
    sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
  },
  batchDirectory: 'cifar-10-batches-bin',
  trainFiles: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  testFiles: ['test_batch.bin'],
};

export const DATASETS: Readonly<Record<DatasetName, DatasetSpec>> = {
  mnist: MNIST,
  'fashion-mnist': FASHION_MNIST,
  cifar10: CIFAR10,
};
